package program

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
	"imagelabel/internal/stackconfig"
)

// checkDomain refuses at preview a custom domain that would fail during
// `pulumi up`: a certificate in another region than the stack's (API
// Gateway's regional domain names take only a certificate of their own
// region:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html),
// or a public hosted zone this account does not have (stackconfig has
// already refused a zone that is not the domain or a parent of it). It
// returns the hosted zone's ID, "" when the
// domain has a certificate ARN instead, or no domain is set.
func checkDomain(ctx *pulumi.Context, cfg stackconfig.Config, region string) (string, error) {
	if cfg.DomainName == "" {
		return "", nil
	}
	if cfg.DomainCertificateArn != "" {
		return "", certificateInRegion(cfg.DomainCertificateArn, region)
	}
	// By name, so the zone is the public one: a private zone of the same
	// name would not be seen by ACM's validation or by the callers.
	zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{
		Name:        pulumi.StringRef(cfg.DomainZone),
		PrivateZone: pulumi.BoolRef(false),
	})
	if err != nil {
		return "", fmt.Errorf("%s:domainZone: no public Route 53 hosted zone %q in this account (the records of %s go there; or set domainCertificateArn and create the record yourself): %w",
			stackconfig.Namespace, cfg.DomainZone, cfg.DomainName, err)
	}
	return zone.ZoneId, nil
}

// certificateInRegion refuses a certificate ARN of another region.
func certificateInRegion(arn, region string) error {
	r, ok := stackconfig.CertificateRegion(arn)
	if !ok {
		return fmt.Errorf("%s:domainCertificateArn: %q is not an ACM certificate ARN", stackconfig.Namespace, arn)
	}
	if r != region {
		return fmt.Errorf("%s:domainCertificateArn: the certificate is in %s but the stack is in %s; API Gateway's regional domain names need a certificate of their own region (request or import one in %s)",
			stackconfig.Namespace, r, region, region)
	}
	return nil
}

// declareDomain declares the custom domain, when one is configured, and
// points the API URL at it.
func (s *system) declareDomain(ctx *pulumi.Context) error {
	if s.cfg.DomainName == "" {
		return nil
	}
	d, err := infra.NewDomain(ctx, "domain", &infra.DomainArgs{
		Name:           s.cfg.DomainName,
		ZoneID:         s.where.DomainZoneID,
		CertificateArn: s.cfg.DomainCertificateArn,
		APIID:          s.api.APIID,
		Stage:          s.api.Stage,
	})
	if err != nil {
		return err
	}
	s.domain = d
	return nil
}

// accessOutputs are the outputs of apiAuth and the custom domain, each only
// when its feature is on (the default stack's outputs stay as they were):
// apiAuth and callerPolicy with iam, apiDomainTarget with a domain, and
// domainDnsRecord when the user creates the record.
func (s *system) accessOutputs() map[string]pulumi.StringOutput {
	out := map[string]pulumi.StringOutput{}
	if s.cfg.APIAuth == stackconfig.APIAuthIAM {
		out["apiAuth"] = pulumi.String(stackconfig.APIAuthIAM).ToStringOutput()
		out["callerPolicy"] = s.api.ExecutionArn.ApplyT(CallerPolicy).(pulumi.StringOutput)
	}
	if s.domain != nil {
		out["apiDomainTarget"] = s.domain.Target
		if s.cfg.DomainCertificateArn != "" {
			out["domainDnsRecord"] = s.domain.DNSRecord
		}
	}
	return out
}

// CallerPolicy returns the IAM policy a caller of an apiAuth=iam stack
// needs: execute-api:Invoke on exactly the signed routes of this API
// (executionArn is arn:aws:execute-api:<region>:<account>:<apiId>).
func CallerPolicy(executionArn string) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":   "Allow",
			"Action":   "execute-api:Invoke",
			"Resource": infra.InvokeResources(executionArn),
		}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
