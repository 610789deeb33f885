package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// UploadsPrefix is the key prefix of every stored image
// (uploads/<sha256>.<ext>); IAM and the lifecycle rule are scoped to it.
const UploadsPrefix = "uploads/"

// StorageArgs configures Storage.
type StorageArgs struct {
	// ImageRetentionDays expires objects under uploads/ after this many days.
	ImageRetentionDays int
}

// Storage is the image bucket: private (all four public access blocks),
// bucket-owner-enforced (ACLs disabled), encrypted at rest with SSE-S3,
// refusing non-TLS requests, expiring old images, and destroyable with
// objects in it.
type Storage struct {
	pulumi.ResourceState

	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	BucketArn  pulumi.StringOutput `pulumi:"bucketArn"`
}

// NewStorage creates the bucket and its settings.
func NewStorage(ctx *pulumi.Context, name string, args *StorageArgs, opts ...pulumi.ResourceOption) (*Storage, error) {
	if args.ImageRetentionDays < 1 {
		return nil, fmt.Errorf("storage %s: image retention %d days", name, args.ImageRetentionDays)
	}
	st := &Storage{}
	if err := ctx.RegisterComponentResource("imagelabel:storage:Storage", name, st, opts...); err != nil {
		return nil, fmt.Errorf("register storage %s: %w", name, err)
	}
	parent := pulumi.Parent(st)
	b, err := newBucket(ctx, name, parent)
	if err != nil {
		return nil, err
	}
	// S3 answers OperationAborted ("A conflicting conditional operation is
	// currently in progress") when two configuration writes to one bucket
	// overlap (terraform-provider-aws issue 7628), so each setting waits
	// for the one before it: public access block first (a policy write
	// racing it is rejected), the policy last.
	var after pulumi.ResourceOption // waits for the previous write
	chain := func(r pulumi.Resource) { after = pulumi.DependsOn([]pulumi.Resource{r}) }
	own, err := newBucketAccess(ctx, name, b, parent)
	if err != nil {
		return nil, err
	}
	chain(own)
	sse, err := newBucketEncryption(ctx, name, b, parent, after)
	if err != nil {
		return nil, err
	}
	chain(sse)
	lc, err := newBucketLifecycle(ctx, name, b, args.ImageRetentionDays, parent, after)
	if err != nil {
		return nil, err
	}
	chain(lc)
	if err := newBucketPolicy(ctx, name, b, parent, after); err != nil {
		return nil, err
	}
	st.BucketName = b.Bucket
	st.BucketArn = b.Arn
	if err := ctx.RegisterResourceOutputs(st, pulumi.Map{"bucketName": st.BucketName, "bucketArn": st.BucketArn}); err != nil {
		return nil, fmt.Errorf("outputs of storage %s: %w", name, err)
	}
	return st, nil
}

// newBucket creates the bucket itself, without any of its settings.
func newBucket(ctx *pulumi.Context, name string, parent pulumi.ResourceOption) (*s3.BucketV2, error) {
	// BucketV2 and the separate *V2 configuration resources are the
	// non-deprecated S3 resources of pulumi-aws v6.
	b, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		// Content-addressed images are cache-like: `pulumi destroy` may
		// delete them with the bucket.
		ForceDestroy: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	return b, nil
}

// newBucketAccess makes the bucket private: the public access block (the
// first configuration write), then the ownership controls after it. It
// returns the ownership controls, the last write, for the next one to wait
// for.
func newBucketAccess(ctx *pulumi.Context, name string, b *s3.BucketV2, parent pulumi.ResourceOption) (pulumi.Resource, error) {
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                b.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("public access block %s: %w", name, err)
	}
	// BucketOwnerEnforced disables ACLs: every object belongs to the bucket
	// owner and access is decided by IAM and the bucket policy only:
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
	own, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: b.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent, pulumi.DependsOn([]pulumi.Resource{pab}))
	if err != nil {
		return nil, fmt.Errorf("ownership controls %s: %w", name, err)
	}
	return own, nil
}

// newBucketEncryption sets default encryption at rest, after the write
// named by after.
func newBucketEncryption(ctx *pulumi.Context, name string, b *s3.BucketV2, parent, after pulumi.ResourceOption) (pulumi.Resource, error) {
	// SSE-S3 (AES256): encryption at rest without a KMS key to pay for or
	// grant to Rekognition (which reads the object with the caller's rights).
	sse, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
		}},
	}, parent, after)
	if err != nil {
		return nil, fmt.Errorf("encryption %s: %w", name, err)
	}
	return sse, nil
}

// newBucketLifecycle expires images under UploadsPrefix after
// retentionDays and aborts incomplete multipart uploads after a day, after
// the write named by after.
func newBucketLifecycle(ctx *pulumi.Context, name string, b *s3.BucketV2, retentionDays int, parent, after pulumi.ResourceOption) (pulumi.Resource, error) {
	lc, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("expire-uploads"),
			Status: pulumi.String("Enabled"),
			Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(UploadsPrefix)},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{
				Days: pulumi.Int(retentionDays),
			},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(1),
			},
		}},
	}, parent, after)
	if err != nil {
		return nil, fmt.Errorf("lifecycle %s: %w", name, err)
	}
	return lc, nil
}

// newBucketPolicy sets the bucket policy, the last configuration write,
// after the write named by after.
func newBucketPolicy(ctx *pulumi.Context, name string, b *s3.BucketV2, parent, after pulumi.ResourceOption) error {
	// Refuse plain-HTTP requests to the bucket and its objects:
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
	policy := b.Arn.ApplyT(func(arn string) (string, error) {
		return policyJSON(Statement{
			Sid:       "DenyInsecureTransport",
			Effect:    "Deny",
			Principal: "*",
			Action:    "s3:*",
			Resource:  []string{arn, arn + "/*"},
			Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
		})
	}).(pulumi.StringOutput)
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: b.ID(),
		Policy: policy,
	}, parent, after); err != nil {
		return fmt.Errorf("bucket policy %s: %w", name, err)
	}
	return nil
}
