package cost

import "imagelabel/internal/plan"

// Sources of the custom domain's prices (none of them is a price to look
// up: each is free or already paid).
const (
	srcACMPricing     = "https://aws.amazon.com/certificate-manager/pricing/"
	srcRoute53Pricing = "https://aws.amazon.com/route53/pricing/"
)

// fixedDomain lists what a custom domain adds, at what it costs: an ACM
// public certificate is free; the API Gateway domain name and mapping cost
// nothing beyond the API's requests; the records go in the user's own
// hosted zone, whose monthly fee the user already pays (the program creates
// no zone), and Route 53 does not charge for alias queries to API Gateway.
// Listed at 0 so the plan shows they were counted, not forgotten.
func fixedDomain(e *estimator, p *plan.Result) {
	for _, r := range p.Find("aws:acm/certificate:Certificate") {
		e.add(r.Name+" (ACM public certificate)", 0, "free for public certificates (%s)", srcACMPricing)
	}
	for _, r := range p.Find("aws:apigatewayv2/domainName:DomainName") {
		e.add(r.Name+" (API Gateway custom domain name)", 0, "no charge beyond the API's requests")
	}
	if n := len(p.Find("aws:route53/record:Record")); n > 0 {
		e.add("domain (records in your hosted zone)", 0,
			"%d records; the zone's monthly fee is your zone's, already paid; alias queries to API Gateway are free (%s)", n, srcRoute53Pricing)
	}
}
