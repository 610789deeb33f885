package main

import "fmt"

// domain returns what to check of a custom domain (the stack output
// apiDomainTarget is set) when the API does not answer at it: DNS, and the
// record the user creates when the stack did not.
func (h hints) domain() []string {
	target, ok := h.outputs["apiDomainTarget"].(string)
	if !ok || target == "" {
		return nil
	}
	host := ""
	if u, ok := h.outputs[stackOutputAPIURL].(string); ok {
		if b, err := parseBaseURL("apiUrl", u); err == nil {
			host = b.Hostname()
		}
	}
	out := []string{fmt.Sprintf("the custom domain: `dig +short %s` must give the addresses of %s (`dig +short %s`); new records can take minutes to resolve", host, target, target)}
	if rec, ok := h.outputs["domainDnsRecord"].(string); ok && rec != "" {
		out = append(out, "the DNS record this stack leaves to you: "+rec)
	}
	return out
}
