package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DomainArgs configures a Domain. Exactly one of ZoneID and CertificateArn
// is set.
type DomainArgs struct {
	// Name is the custom domain, e.g. api.example.com.
	Name string
	// ZoneID is the public hosted zone that holds Name: the component
	// creates the certificate, validates it by DNS there and creates the
	// alias records.
	ZoneID string
	// CertificateArn is the user's ACM certificate for Name, in the stack's
	// region; the user creates the DNS record (DNSRecord says which).
	CertificateArn string
	APIID          pulumi.StringInput
	// Stage is the API's stage the domain maps to (its name is read from
	// the resource, so the mapping waits for the stage).
	Stage *apigatewayv2.Stage
}

// Domain is the API under a custom domain: the certificate (created and
// validated, or given), the API Gateway domain name and its API mapping,
// and, with a hosted zone, the A and AAAA alias records.
type Domain struct {
	pulumi.ResourceState

	// URL is https://<name>/, the API's address under the domain.
	URL pulumi.StringOutput `pulumi:"url"`
	// Target is API Gateway's regional name for the domain
	// (d-<id>.execute-api.<region>.amazonaws.com), where DNS must point.
	Target pulumi.StringOutput `pulumi:"target"`
	// DNSRecord says which record the user creates when the component
	// did not (a certificate ARN was given); "" with a hosted zone.
	DNSRecord pulumi.StringOutput `pulumi:"dnsRecord"`
}

// NewDomain creates the custom domain of an API.
func NewDomain(ctx *pulumi.Context, name string, args *DomainArgs, opts ...pulumi.ResourceOption) (*Domain, error) {
	if (args.ZoneID == "") == (args.CertificateArn == "") {
		return nil, fmt.Errorf("domain %s: want exactly one of a hosted zone and a certificate ARN", args.Name)
	}
	d := &Domain{}
	if err := ctx.RegisterComponentResource("imagelabel:api:Domain", name, d, opts...); err != nil {
		return nil, fmt.Errorf("register domain %s: %w", name, err)
	}
	parent := pulumi.Parent(d)
	certArn := pulumi.String(args.CertificateArn).ToStringOutput()
	if args.ZoneID != "" {
		var err error
		if certArn, err = newValidatedCertificate(ctx, name, args, parent); err != nil {
			return nil, err
		}
	}
	dn, err := apigatewayv2.NewDomainName(ctx, name, &apigatewayv2.DomainNameArgs{
		DomainName: pulumi.String(args.Name),
		// HTTP APIs support only regional custom domains and TLS 1.2
		// ("TLS_1_0" is refused for them); dualstack so the AAAA alias
		// answers IPv6 clients:
		// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html
		// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names-ip-address-type.html
		DomainNameConfiguration: &apigatewayv2.DomainNameDomainNameConfigurationArgs{
			CertificateArn: certArn,
			EndpointType:   pulumi.String("REGIONAL"),
			SecurityPolicy: pulumi.String("TLS_1_2"),
			IpAddressType:  pulumi.String("dualstack"),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("api domain name %s: %w", args.Name, err)
	}
	// No mapping key: the whole domain is the API, paths unchanged.
	if _, err := apigatewayv2.NewApiMapping(ctx, name, &apigatewayv2.ApiMappingArgs{
		ApiId:      args.APIID,
		DomainName: dn.ID(),
		Stage:      args.Stage.Name,
	}, parent); err != nil {
		return nil, fmt.Errorf("api mapping of %s: %w", args.Name, err)
	}
	target := dn.DomainNameConfiguration.TargetDomainName().Elem()
	zoneID := dn.DomainNameConfiguration.HostedZoneId().Elem()
	d.URL = pulumi.Sprintf("https://%s/", args.Name)
	d.Target = target
	d.DNSRecord = pulumi.String("").ToStringOutput()
	if args.ZoneID != "" {
		if err := newAliasRecords(ctx, name, args, target, zoneID, parent); err != nil {
			return nil, err
		}
	} else {
		d.DNSRecord = pulumi.Sprintf("%s CNAME %s (or, in Route 53, alias A and AAAA records to %s in hosted zone %s)", args.Name, target, target, zoneID)
	}
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{"url": d.URL, "target": d.Target, "dnsRecord": d.DNSRecord}); err != nil {
		return nil, fmt.Errorf("outputs of domain %s: %w", name, err)
	}
	return d, nil
}

// newValidatedCertificate requests a public ACM certificate for the
// domain, creates its DNS validation record in the zone and waits until ACM
// has issued it (acm.CertificateValidation creates nothing in AWS; it
// blocks `pulumi up` until the certificate is ISSUED, up to 75 minutes by
// default). It returns the ARN of the issued certificate.
// https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
func newValidatedCertificate(ctx *pulumi.Context, name string, args *DomainArgs, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	cert, err := acm.NewCertificate(ctx, name, &acm.CertificateArgs{
		DomainName:       pulumi.String(args.Name),
		ValidationMethod: pulumi.String("DNS"),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("certificate for %s: %w", args.Name, err)
	}
	// One name, so one validation record.
	opt := cert.DomainValidationOptions.Index(pulumi.Int(0))
	rec, err := route53.NewRecord(ctx, name+"-validation", &route53.RecordArgs{
		ZoneId:  pulumi.String(args.ZoneID),
		Name:    opt.ResourceRecordName().Elem(),
		Type:    opt.ResourceRecordType().Elem(),
		Records: pulumi.StringArray{opt.ResourceRecordValue().Elem()},
		Ttl:     pulumi.Int(300),
		// The record is ACM's and the same for every certificate of the name
		// in this account: a replaced certificate finds it already there.
		AllowOverwrite: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("validation record of %s: %w", args.Name, err)
	}
	v, err := acm.NewCertificateValidation(ctx, name, &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: pulumi.StringArray{rec.Fqdn},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("certificate validation of %s: %w", args.Name, err)
	}
	return v.CertificateArn, nil
}

// newAliasRecords points the domain at API Gateway: alias A and AAAA
// records to the domain name's regional target. Route 53 does not charge
// for alias queries to API Gateway, and alias records need no TTL:
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-api-gateway.html
func newAliasRecords(ctx *pulumi.Context, name string, args *DomainArgs, target, zoneID pulumi.StringOutput, parent pulumi.ResourceOption) error {
	for _, typ := range []string{"A", "AAAA"} {
		if _, err := route53.NewRecord(ctx, name+"-"+typ, &route53.RecordArgs{
			ZoneId: pulumi.String(args.ZoneID),
			Name:   pulumi.String(args.Name),
			Type:   pulumi.String(typ),
			Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
				Name:                 target,
				ZoneId:               zoneID,
				EvaluateTargetHealth: pulumi.Bool(false),
			}},
		}, parent); err != nil {
			return fmt.Errorf("%s record of %s: %w", typ, args.Name, err)
		}
	}
	return nil
}
