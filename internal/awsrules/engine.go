// Package awsrules holds AWS's documented input constraints (the rule
// table, table.go, each rule with its source) and the walk that applies them
// to every resource a plan declares (imagelabel/internal/plan). Pulumi's
// mocks accept any value; AWS does not, and a value it rejects stops
// `pulumi up` half-way. Any test of any configuration can call Check on its
// plan; a resource type without rules is reported, so a type added later is
// checked too.
package awsrules

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"imagelabel/internal/plan"
)

// check inspects one value and returns "" when AWS accepts it, else what is
// wrong with it.
type check func(v any) string

// rule is one documented AWS constraint on the values at path in a
// resource's inputs.
//
// Path segments are separated by dots: a property name (camelCase, as Pulumi
// sends it), "*" for every element of a list or every value of a map, "~"
// for every key of a map, and "@json" to parse a string (a JSON document
// such as containerDefinitions or a policy) and descend into it. The empty
// path is the whole input map (for rules relating two properties). A path
// that does not exist is skipped: the rule constrains a value only when the
// program sends it.
type rule struct {
	path   string
	name   string // what AWS requires, in words
	source string // URL of the API reference, user guide or CloudFormation schema
	check  check
}

// autoName says how the provider names a resource whose program leaves the
// name property unset: Pulumi auto-naming appends "-" and 7 random lowercase
// hex characters to the logical name (after an optional lowercasing), unless
// a prefix property is set, in which case the provider generates the name.
// pulumi-aws auto-names every resource with an optional "name" input this
// way (provider/resources.go setAutonaming: at most 255 characters), roles
// with at most 64, and bucket names lowercased with at most 63:
// https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming
type autoName struct {
	prop      string
	prefixBy  string // property that replaces auto-naming when set ("namePrefix"); "" if none
	lowercase bool
}

// typeRules are the rules of one resource type token.
type typeRules struct {
	auto  *autoName
	rules []rule
	// none, when not empty, registers a type that sends nothing a rule could
	// constrain (only IDs and booleans), with the reason.
	none string
}

// planRule is a rule across resources (e.g. the aggregate size of a role's
// inline policies); it returns one violation per offending resource.
type planRule struct {
	name   string
	source string
	check  func(p *plan.Result) []Violation
}

// Violation is one value AWS would reject.
type Violation struct {
	Type, Name string // resource type token and logical name
	Path       string // concrete property path, e.g. containerDefinitions[0].name
	Value      string
	Rule       string
	Source     string
	Problem    string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s %q: %s = %s: %s [rule: %s; source: %s]",
		v.Type, v.Name, v.Path, v.Value, v.Problem, v.Rule, v.Source)
}

// exemptType reports whether a resource type needs no rules: Pulumi
// providers and this program's own component resources, which AWS never
// sees.
func exemptType(r *plan.Resource) bool {
	return !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") || strings.HasPrefix(r.Type, plan.Project+":")
}

// randomSuffix stands for the 7 random characters Pulumi auto-naming adds.
const randomSuffix = "a1b2c3d"

// effectiveInputs returns the inputs as AWS receives them: the auto-name
// filled in when the program leaves the name to Pulumi. auto is the
// auto-named property, or "".
func effectiveInputs(r *plan.Resource, tr typeRules) (in map[string]any, auto string) {
	in = make(map[string]any, len(r.Inputs)+1)
	for k, v := range r.Inputs {
		in[k] = v
	}
	if a := tr.auto; a != nil {
		_, named := in[a.prop]
		_, prefixed := in[a.prefixBy]
		if !named && !(a.prefixBy != "" && prefixed) {
			n := r.Name
			if a.lowercase {
				n = strings.ToLower(n)
			}
			in[a.prop] = n + "-" + randomSuffix
			auto = a.prop
		}
	}
	return in, auto
}

// unknown reports whether v is a value the plan cannot know (computed by
// the provider, or secret); rules skip it.
func unknown(v any) bool {
	s, ok := v.(string)
	return ok && (s == "[unknown]" || s == "[secret]")
}

// badJSON is what walk finds where a path descends into a string that is
// not JSON.
type badJSON struct {
	raw string
	err error
}

// walk calls fn with each concrete path and value that path matches in v.
func walk(v any, segs []string, at string, fn func(at string, v any)) {
	if v == nil || unknown(v) {
		return
	}
	if len(segs) == 0 {
		fn(at, v)
		return
	}
	seg, rest := segs[0], segs[1:]
	switch seg {
	case "@json":
		s, ok := v.(string)
		if !ok {
			walk(v, rest, at, fn) // already structured
			return
		}
		var doc any
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			fn(at, badJSON{raw: s, err: err})
			return
		}
		walk(doc, rest, at, fn)
	case "*":
		switch c := v.(type) {
		case []any:
			for i, e := range c {
				walk(e, rest, fmt.Sprintf("%s[%d]", at, i), fn)
			}
		case map[string]any:
			for _, k := range sortedKeys(c) {
				walk(c[k], rest, at+"."+k, fn)
			}
		}
	case "~":
		if m, ok := v.(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				walk(k, rest, at+".(key "+k+")", fn)
			}
		}
	default:
		if m, ok := v.(map[string]any); ok {
			if next, ok := m[seg]; ok {
				p := seg
				if at != "" {
					p = at + "." + seg
				}
				walk(next, rest, p, fn)
			}
		}
	}
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// shortValue renders a value for a message, cut to a readable length.
func shortValue(v any) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// checkResource applies a type's rules to one resource.
func checkResource(r *plan.Resource, tr typeRules) []Violation {
	in, auto := effectiveInputs(r, tr)
	var out []Violation
	jsonReported := map[string]bool{} // one report per unparsable document
	for _, ru := range tr.rules {
		var segs []string
		if ru.path != "" {
			segs = strings.Split(ru.path, ".")
		}
		walk(in, segs, "", func(at string, v any) {
			switch at {
			case "":
				at = "(resource)"
			case auto:
				// Say where the value comes from: the program sets no name.
				at += " (Pulumi auto-name: logical name + \"-\" + 7 random characters; set the name or rename the resource)"
			}
			var problem string
			if bad, ok := v.(badJSON); ok {
				if jsonReported[at] {
					return
				}
				jsonReported[at] = true
				problem, v = "is not valid JSON: "+bad.err.Error(), bad.raw
			} else {
				problem = ru.check(v)
			}
			if problem != "" {
				out = append(out, Violation{Type: r.Type, Name: r.Name, Path: at, Value: shortValue(v),
					Rule: ru.name, Source: ru.source, Problem: problem})
			}
		})
	}
	return out
}

// Check applies the rule table to every resource of p. It returns the
// violations and the resource types that have no registered rules (each a
// failure: a type added to the program must be given its rules).
func Check(p *plan.Result) (vs []Violation, unregistered []string) {
	return checkPlan(p, awsRules, awsPlanRules)
}

// checkPlan applies the rules to every resource of the plan. It returns the
// violations and the resource types that have no registered rules (each a
// failure: a type added to the program must be given its rules).
func checkPlan(p *plan.Result, table map[string]typeRules, planRules []planRule) (vs []Violation, unregistered []string) {
	seen := map[string]bool{}
	for _, r := range p.Resources {
		if exemptType(r) {
			continue
		}
		tr, ok := table[r.Type]
		if !ok {
			if !seen[r.Type] {
				seen[r.Type] = true
				unregistered = append(unregistered, fmt.Sprintf("%s (e.g. %q)", r.Type, r.Name))
			}
			continue
		}
		vs = append(vs, checkResource(r, tr)...)
	}
	for _, pr := range planRules {
		vs = append(vs, pr.check(p)...)
	}
	sort.Strings(unregistered)
	return vs, unregistered
}

// ---- value checks ----

// all returns the first failure of checks.
func all(checks ...check) check {
	return func(v any) string {
		for _, c := range checks {
			if p := c(v); p != "" {
				return p
			}
		}
		return ""
	}
}

// str requires a string and applies checks to it.
func str(checks ...func(s string) string) check {
	return func(v any) string {
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("is %T, want a string", v)
		}
		for _, c := range checks {
			if p := c(s); p != "" {
				return p
			}
		}
		return ""
	}
}

// length bounds a string's length in characters (runes; the documented
// sets below are ASCII, where runes and bytes agree).
func length(lo, hi int) func(string) string {
	return func(s string) string {
		if n := utf8.RuneCountInString(s); n < lo || n > hi {
			return fmt.Sprintf("length %d is outside %d..%d", n, lo, hi)
		}
		return ""
	}
}

// charsIn allows only the characters of set (written out, ranges as a-z).
func charsIn(set string) func(string) string {
	allowed := expandSet(set)
	return func(s string) string {
		for i, c := range s {
			if !allowed[c] {
				return fmt.Sprintf("character %q at %d is not in the allowed set %s", c, i, set)
			}
		}
		return ""
	}
}

// expandSet turns "a-zA-Z0-9 ._-" into a set; a '-' that is first, last or
// follows a range is literal.
func expandSet(set string) map[rune]bool {
	rs := []rune(set)
	m := map[rune]bool{}
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && rs[i+1] == '-' && rs[i] < rs[i+2] && isAlnum(rs[i]) && isAlnum(rs[i+2]) {
			for c := rs[i]; c <= rs[i+2]; c++ {
				m[c] = true
			}
			i += 2
			continue
		}
		m[rs[i]] = true
	}
	return m
}

func isAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// matches requires a full match of re (anchored here).
func matches(re string) func(string) string {
	c := regexp.MustCompile(`^(?:` + re + `)$`)
	return func(s string) string {
		if !c.MatchString(s) {
			return fmt.Sprintf("does not match %s", re)
		}
		return ""
	}
}

// notPrefixed rejects reserved prefixes.
func notPrefixed(prefixes ...string) func(string) string {
	return func(s string) string {
		for _, p := range prefixes {
			if strings.HasPrefix(strings.ToLower(s), p) {
				return fmt.Sprintf("starts with the reserved %q", p)
			}
		}
		return ""
	}
}

// notSuffixed rejects reserved suffixes.
func notSuffixed(suffixes ...string) func(string) string {
	return func(s string) string {
		for _, x := range suffixes {
			if strings.HasSuffix(s, x) {
				return fmt.Sprintf("ends with the reserved %q", x)
			}
		}
		return ""
	}
}

// oneOf requires one of the listed strings.
func oneOf(vals ...string) check {
	return str(func(s string) string {
		if !slices.Contains(vals, s) {
			return fmt.Sprintf("is not one of %v", vals)
		}
		return ""
	})
}

// number reads a JSON number, or a string holding one (ECS cpu/memory).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// between bounds a number.
func between(lo, hi float64) check {
	return func(v any) string {
		n, ok := number(v)
		if !ok {
			return fmt.Sprintf("is %T, want a number", v)
		}
		if n < lo || n > hi {
			return fmt.Sprintf("%g is outside %g..%g", n, lo, hi)
		}
		return ""
	}
}

// integer requires a whole number.
func integer(v any) string {
	n, ok := number(v)
	if !ok || n != math.Trunc(n) {
		return fmt.Sprintf("%v is not an integer", v)
	}
	return ""
}

// numOneOf requires one of the listed numbers.
func numOneOf(vals ...float64) check {
	return func(v any) string {
		n, ok := number(v)
		if !ok || !slices.Contains(vals, n) {
			return fmt.Sprintf("%v is not one of %v", v, vals)
		}
		return ""
	}
}

// maxItems bounds a list's length.
func maxItems(n int) check {
	return func(v any) string {
		l, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("is %T, want a list", v)
		}
		if len(l) > n {
			return fmt.Sprintf("has %d items, at most %d allowed", len(l), n)
		}
		return ""
	}
}

// mapMaxItems bounds a map's size (tags).
func mapMaxItems(n int) check {
	return func(v any) string {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprintf("is %T, want a map", v)
		}
		if len(m) > n {
			return fmt.Sprintf("has %d entries, at most %d allowed", len(m), n)
		}
		return ""
	}
}

// ipv4CIDR requires an IPv4 network in CIDR notation (the address is the
// network address) with a prefix length in lo..hi.
func ipv4CIDR(lo, hi int) check {
	return str(func(s string) string {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			return "is not an IPv4 CIDR block"
		}
		if p.Masked() != p {
			return fmt.Sprintf("host bits set (network is %s)", p.Masked())
		}
		if b := p.Bits(); b < lo || b > hi {
			return fmt.Sprintf("prefix /%d is outside /%d../%d", b, lo, hi)
		}
		return ""
	})
}

// nonWhitespaceLen counts the characters IAM counts against its policy size
// quotas: "IAM doesn't count white space".
func nonWhitespaceLen(s string) int {
	n := 0
	for _, c := range s {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

// jsonObject requires a string holding a JSON object.
func jsonObject(s string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return fmt.Sprintf("is not a JSON object: %v", err)
	}
	return ""
}

// iamPolicy requires an IAM policy document (JSON object with Version
// 2012-10-17 and a Statement) of at most max characters, counted as IAM
// counts them (whitespace excluded) when nonWS, else all characters; IAM
// also accepts only tab, LF, CR and U+0020..U+00FF.
func iamPolicy(max int, nonWS bool) check {
	return str(func(s string) string {
		if p := jsonObject(s); p != "" {
			return p
		}
		var doc struct {
			Version   string          `json:"Version"`
			Statement json.RawMessage `json:"Statement"`
		}
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return fmt.Sprintf("is not a policy document: %v", err)
		}
		if doc.Version != "2012-10-17" {
			return fmt.Sprintf("Version %q, want 2012-10-17 (policy variables need it)", doc.Version)
		}
		if len(doc.Statement) == 0 {
			return "has no Statement"
		}
		n := len([]rune(s))
		if nonWS {
			n = nonWhitespaceLen(s)
		}
		if n > max {
			return fmt.Sprintf("is %d characters, at most %d allowed", n, max)
		}
		for i, c := range s {
			if c != '\t' && c != '\n' && c != '\r' && (c < 0x20 || c > 0xFF) {
				return fmt.Sprintf("character %q at %d is outside tab, LF, CR and U+0020..U+00FF", c, i)
			}
		}
		return ""
	})
}
