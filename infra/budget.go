package infra

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/budgets"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BudgetArgs configures a Budget.
type BudgetArgs struct {
	// Name is the budget's name, unique in the account (carry the stack).
	Name string
	// LimitUSD is the monthly cost limit in US dollars (> 0).
	LimitUSD float64
	// Email receives the alerts.
	Email string
	// TagKey and TagValue select the stack's resources: a cost allocation
	// tag every resource of the stack carries (the provider's default tags).
	TagKey, TagValue string
}

// Budget is an AWS Budgets monthly cost budget over the resources tagged
// TagKey=TagValue, emailing when the month's forecast passes 80% of the
// limit and when actual spend passes 100%.
type Budget struct {
	pulumi.ResourceState

	BudgetName pulumi.StringOutput `pulumi:"budgetName"`
}

// Budget notification thresholds (percent of the limit).
const (
	BudgetForecastPercent = 80
	BudgetActualPercent   = 100
)

// BudgetTagFilter is the Budgets cost filter value for a user-defined cost
// allocation tag: "user:<key>$<value>" under the TagKeyValue filter (AWS
// CLI example "To create a Cost and Usage budget"):
// https://docs.aws.amazon.com/cli/latest/reference/budgets/create-budget.html
// The tag must be activated as a cost allocation tag in the Billing console
// before Budgets sees costs under it (docs/cost.md).
func BudgetTagFilter(key, value string) string {
	return "user:" + key + "$" + value
}

// NewBudget creates the budget and its two notifications.
func NewBudget(ctx *pulumi.Context, name string, args *BudgetArgs, opts ...pulumi.ResourceOption) (*Budget, error) {
	if args.LimitUSD <= 0 || args.Email == "" || args.TagKey == "" {
		return nil, fmt.Errorf("budget %s: limit %g, email %q and tag key %q must all be set", name, args.LimitUSD, args.Email, args.TagKey)
	}
	b := &Budget{}
	if err := ctx.RegisterComponentResource("imagelabel:budget:Budget", name, b, opts...); err != nil {
		return nil, fmt.Errorf("register budget %s: %w", name, err)
	}
	notify := func(kind string, percent float64) budgets.BudgetNotificationArgs {
		return budgets.BudgetNotificationArgs{
			ComparisonOperator:       pulumi.String("GREATER_THAN"),
			NotificationType:         pulumi.String(kind),
			Threshold:                pulumi.Float64(percent),
			ThresholdType:            pulumi.String("PERCENTAGE"),
			SubscriberEmailAddresses: pulumi.StringArray{pulumi.String(args.Email)},
		}
	}
	bud, err := budgets.NewBudget(ctx, name, &budgets.BudgetArgs{
		Name:        pulumi.String(args.Name),
		BudgetType:  pulumi.String("COST"),
		LimitAmount: pulumi.String(strconv.FormatFloat(args.LimitUSD, 'f', 2, 64)),
		LimitUnit:   pulumi.String("USD"),
		TimeUnit:    pulumi.String("MONTHLY"),
		CostFilters: budgets.BudgetCostFilterArray{budgets.BudgetCostFilterArgs{
			Name:   pulumi.String("TagKeyValue"),
			Values: pulumi.StringArray{pulumi.String(BudgetTagFilter(args.TagKey, args.TagValue))},
		}},
		Notifications: budgets.BudgetNotificationArray{
			notify("FORECASTED", BudgetForecastPercent),
			notify("ACTUAL", BudgetActualPercent),
		},
	}, pulumi.Parent(b))
	if err != nil {
		return nil, fmt.Errorf("budget %s: %w", name, err)
	}
	b.BudgetName = bud.Name
	if err := ctx.RegisterResourceOutputs(b, pulumi.Map{"budgetName": b.BudgetName}); err != nil {
		return nil, fmt.Errorf("outputs of budget %s: %w", name, err)
	}
	return b, nil
}
