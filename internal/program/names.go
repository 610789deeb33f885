package program

import (
	"fmt"
	"strings"

	"imagelabel/infra"
	"imagelabel/internal/stackconfig"
)

// namespaces are the two Cloud Map namespace names of a stack. Cloud Map
// makes namespace names unique per account and region
// (NamespaceAlreadyExists), so each carries the stack:
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html
type namespaces struct {
	ServiceConnect string // <stack>.<namespace>: rekog is rekog.<this>
	Discovery      string // api.<stack>.<namespace>: upload's SRV records
}

// maxDNSName is the longest DNS name (RFC 1035), the bound of a private DNS
// namespace's name.
const maxDNSName = 253

// stackNamespace derives the stack's namespace names from the configured
// domain. Every stack gets its own names whatever the config says, so two
// stacks with the same config never collide.
func stackNamespace(stack, domain string) (namespaces, error) {
	sc := stackLabel(stack) + "." + domain
	ns := namespaces{ServiceConnect: sc, Discovery: "api." + sc}
	if len(ns.Discovery) > maxDNSName {
		return namespaces{}, fmt.Errorf("%s:namespace: %q with the stack makes %q, longer than %d characters", stackconfig.Namespace, domain, ns.Discovery, maxDNSName)
	}
	return ns, nil
}

// stackLabel turns a Pulumi stack name (letters, digits, '-', '_', '.')
// into one DNS label: lowercase letters, digits and inner hyphens, at most
// 63 characters. A name that had to change gets a short hash of the
// original, so "Dev" and "dev", or "a.b" and "a-b", stay distinct.
func stackLabel(stack string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(stack) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	label := strings.Trim(b.String(), "-")
	if label == stack && len(label) <= 63 {
		return label
	}
	suffix := infra.ShortHash(6, stack)
	if room := 63 - len(suffix) - 1; len(label) > room {
		label = strings.TrimRight(label[:room], "-")
	}
	if label == "" {
		return "s-" + suffix
	}
	return label + "-" + suffix
}

// maxBudgetName is the longest budget name: "The name of a budget ... 1-100
// characters" (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html).
// A Pulumi stack name alone may have 100.
const maxBudgetName = 100

// budgetName is the stack's budget name, unique per account (budgets are
// per account, not per region): imagelabel-<stack>, or for a stack name too
// long for that, its start and a short hash of the whole name.
func budgetName(stack string) string {
	name := "imagelabel-" + stack
	if len(name) <= maxBudgetName {
		return name
	}
	suffix := "-" + infra.ShortHash(8, stack)
	return name[:maxBudgetName-len(suffix)] + suffix
}
