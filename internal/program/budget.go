package program

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
	"imagelabel/internal/stackconfig"
)

// StackTagKey is the cost allocation tag that marks every resource of a
// stack (through the AWS provider's default tags, aws:defaultTags) and that
// the budget filters on. A hyphen, not a colon: the Budgets filter value is
// "user:<key>$<value>".
const StackTagKey = "imagelabel-stack"

// declareBudget adds the budget guard when monthlyBudgetUSD is set. The
// budget only sees what carries the stack tag, so it refuses a stack whose
// aws:defaultTags do not tag every resource with StackTagKey = the stack.
func declareBudget(ctx *pulumi.Context, cfg stackconfig.Config) error {
	if cfg.MonthlyBudgetUSD == 0 {
		return nil
	}
	raw, _ := ctx.GetConfig("aws:defaultTags")
	var dt struct {
		Tags map[string]string `json:"tags"`
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &dt); err != nil {
			return fmt.Errorf("aws:defaultTags: %w", err)
		}
	}
	if dt.Tags[StackTagKey] != ctx.Stack() {
		return fmt.Errorf("%s:monthlyBudgetUSD: the budget counts only resources tagged %s=%s; set aws:defaultTags to {\"tags\": {%q: %q}} in Pulumi.%s.yaml",
			stackconfig.Namespace, StackTagKey, ctx.Stack(), StackTagKey, ctx.Stack(), ctx.Stack())
	}
	_, err := infra.NewBudget(ctx, "budget", &infra.BudgetArgs{
		Name:     budgetName(ctx.Stack()),
		LimitUSD: cfg.MonthlyBudgetUSD,
		Email:    cfg.BudgetEmail,
		TagKey:   StackTagKey,
		TagValue: ctx.Stack(),
	})
	return err
}
