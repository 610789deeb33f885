package infra

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ImageSource is a prepared Docker build context (see imagelabel/internal/build).
type ImageSource struct {
	Context    string // directory holding the Dockerfile and the binary
	Dockerfile string // path of the Dockerfile
	Tag        string // content-derived tag: the same source gives the same tag
}

// ImageArgs configures an Image.
type ImageArgs struct {
	// Source is the build context of the service.
	Source ImageSource
	// Platform is the image platform, linux/arm64 or linux/amd64, matching
	// the task definition's runtimePlatform.
	Platform string
	// KeepImages is how many images the repository keeps (lifecycle policy).
	KeepImages int
}

// Image is a service's ECR repository and the image built from its context
// and pushed there.
type Image struct {
	pulumi.ResourceState

	RepositoryURL pulumi.StringOutput `pulumi:"repositoryUrl"`
	RepositoryArn pulumi.StringOutput `pulumi:"repositoryArn"`
	// ImageName is <repositoryUrl>:<tag>.
	ImageName pulumi.StringOutput `pulumi:"imageName"`
	// RepoDigest is <repositoryUrl>@sha256:...; task definitions use it so a
	// task runs exactly the pushed bytes.
	RepoDigest pulumi.StringOutput `pulumi:"repoDigest"`
}

// lifecyclePolicy keeps the newest keep images of any tag:
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
func lifecyclePolicy(keep int) (string, error) {
	p := map[string]any{"rules": []any{map[string]any{
		"rulePriority": 1,
		"description":  fmt.Sprintf("keep the last %d images", keep),
		"selection": map[string]any{
			"tagStatus":   "any",
			"countType":   "imageCountMoreThan",
			"countNumber": keep,
		},
		"action": map[string]any{"type": "expire"},
	}}}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("marshal lifecycle policy: %w", err)
	}
	return string(b), nil
}

// NewImage creates the repository, its lifecycle policy, and the image.
func NewImage(ctx *pulumi.Context, name string, args *ImageArgs, opts ...pulumi.ResourceOption) (*Image, error) {
	if args.Source.Tag == "" || args.Source.Context == "" {
		return nil, fmt.Errorf("image %s: empty build context or tag", name)
	}
	if args.Platform != "linux/arm64" && args.Platform != "linux/amd64" {
		return nil, fmt.Errorf("image %s: platform %q", name, args.Platform)
	}
	if args.KeepImages < 1 {
		return nil, fmt.Errorf("image %s: keep %d images", name, args.KeepImages)
	}
	img := &Image{}
	if err := ctx.RegisterComponentResource("imagelabel:images:Image", name, img, opts...); err != nil {
		return nil, fmt.Errorf("register image %s: %w", name, err)
	}
	parent := pulumi.Parent(img)
	repo, err := ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
		// MUTABLE because pulumi-docker pushes the tag on every `up`; the
		// tag is content-derived and tasks pin the digest, so a re-push
		// never changes what runs.
		ImageTagMutability: pulumi.String("MUTABLE"),
		// `pulumi destroy` removes the repository with its images.
		ForceDelete: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", name, err)
	}
	lp, err := lifecyclePolicy(args.KeepImages)
	if err != nil {
		return nil, err
	}
	if _, err := ecr.NewLifecyclePolicy(ctx, name, &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(lp),
	}, parent); err != nil {
		return nil, fmt.Errorf("lifecycle policy %s: %w", name, err)
	}
	// A short-lived (12 h) registry token for the push:
	// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
	creds := ecr.GetAuthorizationTokenOutput(ctx, ecr.GetAuthorizationTokenOutputArgs{
		RegistryId: repo.RegistryId,
	}, pulumi.Parent(img))
	image, err := docker.NewImage(ctx, name, &docker.ImageArgs{
		ImageName: pulumi.Sprintf("%s:%s", repo.RepositoryUrl, args.Source.Tag),
		Build: &docker.DockerBuildArgs{
			Context:    pulumi.String(args.Source.Context),
			Dockerfile: pulumi.String(args.Source.Dockerfile),
			Platform:   pulumi.String(args.Platform),
		},
		Registry: &docker.RegistryArgs{
			Server:   repo.RepositoryUrl,
			Username: creds.UserName(),
			Password: pulumi.ToSecret(creds.Password()).(pulumi.StringOutput),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("docker image %s: %w", name, err)
	}
	img.RepositoryURL = repo.RepositoryUrl
	img.RepositoryArn = repo.Arn
	img.ImageName = image.ImageName
	img.RepoDigest = image.RepoDigest
	if err := ctx.RegisterResourceOutputs(img, pulumi.Map{
		"repositoryUrl": img.RepositoryURL, "repositoryArn": img.RepositoryArn,
		"imageName": img.ImageName, "repoDigest": img.RepoDigest,
	}); err != nil {
		return nil, fmt.Errorf("outputs of image %s: %w", name, err)
	}
	return img, nil
}
