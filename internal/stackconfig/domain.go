package stackconfig

import (
	"regexp"
	"strings"
)

// API authorization modes (the apiAuth key).
const (
	// APIAuthNone leaves every route open (the default).
	APIAuthNone = "none"
	// APIAuthIAM makes API Gateway require SigV4-signed requests (AWS_IAM
	// authorization) on the routes that cost money or read data.
	APIAuthIAM = "iam"
)

// dnsLabel is one label of a hostname: letters, digits and hyphens, not
// starting or ending with a hyphen, 1-63 characters (RFC 1123 section 2.1;
// ACM and API Gateway custom domain names follow it, lowercase:
// https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html).
const dnsLabel = `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`

// domainPattern is a lowercase hostname of at least two labels whose last
// label (the TLD) is not all digits, so an IP address is not taken for one.
var domainPattern = regexp.MustCompile(`^(` + dnsLabel + `\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidDomainName reports whether name may be the domainName or domainZone
// key: a lowercase DNS hostname of at most 253 characters, no trailing dot.
func ValidDomainName(name string) bool {
	return len(name) <= 253 && domainPattern.MatchString(name)
}

// ZoneCovers reports whether the hosted zone named zone may hold records
// for name: the zone is the name itself (its apex) or a parent of it.
func ZoneCovers(zone, name string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// certificateARNPattern is an ACM certificate ARN; its fourth field is the
// region: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
// (ACM: arn:aws:acm:region:account:certificate/id).
var certificateARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):[0-9]{12}:certificate/[A-Za-z0-9-]+$`)

// CertificateRegion returns the region of an ACM certificate ARN, or false
// when arn is not one.
func CertificateRegion(arn string) (string, bool) {
	m := certificateARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// domainKeys reads apiAuth and the custom domain keys: domainName with
// exactly one of domainZone (the program creates the certificate and the
// records) and domainCertificateArn (the user creates the DNS record), and
// disableDefaultEndpoint, which needs a domain to leave the API reachable.
func (r *reader) domainKeys(c *Config) {
	raw := r.raw
	switch raw["apiAuth"] {
	case APIAuthNone, APIAuthIAM:
		c.APIAuth = raw["apiAuth"]
	default:
		r.bad("apiAuth", "%q must be %s or %s", raw["apiAuth"], APIAuthNone, APIAuthIAM)
	}
	c.DisableDefaultEndpoint = r.bool("disableDefaultEndpoint")
	name, zone, cert := raw["domainName"], raw["domainZone"], raw["domainCertificateArn"]
	if name == "" {
		for _, k := range []string{"domainZone", "domainCertificateArn"} {
			if raw[k] != "" {
				r.bad(k, "is set but domainName is empty: set domainName too, or unset %s", k)
			}
		}
		if c.DisableDefaultEndpoint {
			r.bad("disableDefaultEndpoint", "true needs domainName: without a custom domain the API would have no address left")
		}
		return
	}
	if !ValidDomainName(name) {
		r.bad("domainName", "%q is not a lowercase DNS name (labels of a-z, 0-9 and -, at most 63 characters each, 253 in all, no trailing dot)", name)
	}
	c.DomainName = name
	switch {
	case zone == "" && cert == "":
		r.bad("domainName", "needs domainZone (a Route 53 hosted zone of this account: the program creates the certificate and records) or domainCertificateArn (an ACM certificate you made: you create the DNS record)")
	case zone != "" && cert != "":
		r.bad("domainZone", "and domainCertificateArn are both set: set one (domainZone to let the program create the certificate, domainCertificateArn to use yours)")
	case zone != "":
		r.domainZone(c, name, zone)
	default:
		if _, ok := CertificateRegion(cert); !ok {
			r.bad("domainCertificateArn", "%q is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", cert)
		}
		c.DomainCertificateArn = cert
	}
}

// domainZone checks that zone is a hosted zone name that can hold name.
func (r *reader) domainZone(c *Config, name, zone string) {
	zone = strings.TrimSuffix(zone, ".")
	switch {
	case !ValidDomainName(zone):
		r.bad("domainZone", "%q is not a lowercase DNS name (the hosted zone's name, e.g. example.com)", zone)
	case !ZoneCovers(zone, name):
		r.bad("domainZone", "%q is not %s or a parent of it: records for %s cannot go in that zone", zone, name, name)
	}
	c.DomainZone = zone
}
