package infra

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Statement is one IAM policy statement. Resource and Condition are left as
// `any` so a statement can hold one ARN or a list, as IAM allows.
type Statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// PolicyDocument is an IAM policy document.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// policyJSON renders statements as a policy document.
func policyJSON(statements ...Statement) (string, error) {
	b, err := json.Marshal(PolicyDocument{Version: "2012-10-17", Statement: statements})
	if err != nil {
		return "", fmt.Errorf("marshal policy: %w", err)
	}
	return string(b), nil
}

// ecsTasksTrust returns the trust policy letting ECS tasks of this account
// assume a role. aws:SourceAccount (and, for task roles, aws:SourceArn on
// this account's ECS resources) prevents the cross-service confused deputy:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html#create_task_iam_policy_and_role
// Execution roles get only aws:SourceAccount: the ECS agent assumes them
// while the task is being provisioned and AWS documents only the account
// condition for them, so a stricter ARN match could stop image pulls.
func ecsTasksTrust(accountID, region string, withSourceArn bool) (string, error) {
	cond := map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": accountID}}
	if withSourceArn {
		cond["ArnLike"] = map[string]string{"aws:SourceArn": fmt.Sprintf("arn:aws:ecs:%s:%s:*", region, accountID)}
	}
	return policyJSON(Statement{
		Effect:    "Allow",
		Principal: map[string]string{"Service": "ecs-tasks.amazonaws.com"},
		Action:    "sts:AssumeRole",
		Condition: cond,
	})
}

// TaskRoleArgs configures a TaskRole.
type TaskRoleArgs struct {
	AccountID string // account the trust policy is limited to
	Region    string // region of the ECS resources allowed to assume it
	// Policy renders the role's only inline policy (an IAM JSON document);
	// it is an output because it names resources such as the bucket ARN.
	Policy pulumi.StringInput
}

// TaskRole is the IAM role a service's containers run as: trusted only by
// ECS tasks of this account, with one inline policy.
type TaskRole struct {
	pulumi.ResourceState

	RoleArn  pulumi.StringOutput `pulumi:"roleArn"`
	RoleName pulumi.StringOutput `pulumi:"roleName"`
}

// NewTaskRole creates the role and its inline policy.
func NewTaskRole(ctx *pulumi.Context, name string, args *TaskRoleArgs, opts ...pulumi.ResourceOption) (*TaskRole, error) {
	r := &TaskRole{}
	if err := ctx.RegisterComponentResource("imagelabel:iam:TaskRole", name, r, opts...); err != nil {
		return nil, fmt.Errorf("register task role %s: %w", name, err)
	}
	trust, err := ecsTasksTrust(args.AccountID, args.Region, true)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.Sprintf("task role of %s", name),
	}, pulumi.Parent(r))
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", name, err)
	}
	pol, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: args.Policy,
	}, pulumi.Parent(r))
	if err != nil {
		return nil, fmt.Errorf("role policy %s: %w", name, err)
	}
	// The ARN handed to task definitions waits for the policy too: a task
	// started on the bare role would get AccessDenied until the inline policy
	// is attached, and the first uploads would fail.
	r.RoleArn = pulumi.All(role.Arn, pol.ID()).ApplyT(func(v []any) string {
		return v[0].(string)
	}).(pulumi.StringOutput)
	r.RoleName = role.Name
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{"roleArn": role.Arn, "roleName": role.Name}); err != nil {
		return nil, fmt.Errorf("outputs of task role %s: %w", name, err)
	}
	return r, nil
}

// UploadTaskPolicy is upload's task role policy: s3:PutObject under
// uploads/ of the bucket and nothing else. upload never reads S3: GET
// /labels/{key} asks rekog, whose DetectLabels answers "no such object" for
// a missing key (docs/services.md), so no s3:GetObject or s3:ListBucket.
func UploadTaskPolicy(bucketArn pulumi.StringInput) pulumi.StringOutput {
	return bucketArn.ToStringOutput().ApplyT(func(arn string) (string, error) {
		return policyJSON(
			Statement{Sid: "PutUploads", Effect: "Allow", Action: "s3:PutObject", Resource: arn + "/" + UploadsPrefix + "*"},
		)
	}).(pulumi.StringOutput)
}

// RekogTaskPolicy is rekog's task role policy: read images under uploads/
// and call DetectLabels. Rekognition passes the caller's credentials to S3
// when the image is an S3Object, so s3:GetObject is required; DetectLabels
// has no resource-level permissions, so its Resource must be "*":
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrekognition.html
func RekogTaskPolicy(bucketArn pulumi.StringInput) pulumi.StringOutput {
	return bucketArn.ToStringOutput().ApplyT(func(arn string) (string, error) {
		return policyJSON(
			Statement{Sid: "ReadUploads", Effect: "Allow", Action: "s3:GetObject", Resource: arn + "/" + UploadsPrefix + "*"},
			Statement{Sid: "DetectLabels", Effect: "Allow", Action: "rekognition:DetectLabels", Resource: "*"},
		)
	}).(pulumi.StringOutput)
}

// executionPolicy is a service's execution role policy: pull its own image
// and write to its own log group (the permissions of
// AmazonECSTaskExecutionRolePolicy, scoped to this service's resources):
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
// ecr:GetAuthorizationToken supports no resource-level permission, hence "*".
func executionPolicy(repoArn, logGroupArn pulumi.StringInput) pulumi.StringOutput {
	return pulumi.All(repoArn, logGroupArn).ApplyT(func(v []any) (string, error) {
		repo, logs := v[0].(string), v[1].(string)
		return policyJSON(
			Statement{Sid: "EcrAuth", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*"},
			Statement{Sid: "PullOwnImage", Effect: "Allow", Action: []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"}, Resource: repo},
			Statement{Sid: "WriteOwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: logs + ":*"},
		)
	}).(pulumi.StringOutput)
}
