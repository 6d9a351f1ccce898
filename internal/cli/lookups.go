package cli

import (
	"context"
	"fmt"
	"log/slog"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/awslookup/ec2dns"
	"github.com/iamgate/iamgate/internal/awslookup/iamgroups"
	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// resolvers are the AWS lookups mappings may need. Building them contacts no
// AWS endpoint; credentials resolve on the first lookup.
type resolvers struct {
	groups rules.GroupResolver
	ec2    rules.EC2Resolver
}

// newResolvers builds the IAM-group and EC2 lookups from the server's own
// AWS credential chain and the roles it assumes for other accounts. Without
// a region the EC2 lookup is left out and every {{EC2PrivateDNSName}} review
// is denied (fail closed), with a warning now; IAM-group roles without a
// region are an error.
func newResolvers(ctx context.Context, c *config.Config, log *slog.Logger, reg prometheus.Registerer) (*resolvers, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config for IAM/EC2 lookups: %w", err)
	}
	g := c.Server.IAMGroups
	groups, err := iamgroups.NewFromConfig(cfg, iamgroups.ClientConfig{
		AccountRoleARNs: g.RoleARNs, ExternalID: g.ExternalID,
	}, iamgroups.Options{
		AccountID: g.AccountID, CacheTTL: g.CacheTTL, NegativeCacheTTL: g.NegativeCacheTTL,
		MaxEntries: g.CacheSize, QPS: g.QPS, Burst: g.Burst, Timeout: g.Timeout,
		Metrics: iamgroups.NewMetrics(reg), Logger: log, ScrubbedAccounts: c.Server.ScrubbedAccounts,
	})
	if err != nil {
		return nil, fmt.Errorf("iam groups lookup: %w", err)
	}
	out := &resolvers{groups: groups}
	e := c.Server.EC2
	if e.Region == "" && cfg.Region == "" {
		// Said only where it matters: each backend warns when it loads an
		// entry that needs the lookup (rules.Table.Warnings).
		log.Debug("no region for EC2 lookups (server.ec2DescribeInstancesRegion or AWS_REGION); {{EC2PrivateDNSName}} mappings would deny")
		return out, nil
	}
	ec2, err := ec2dns.NewFromConfig(cfg, ec2dns.ClientConfig{
		Region: e.Region, RoleARN: c.Server.EC2DescribeInstancesRoleARN, AccountRoleARNs: e.RoleARNs, ExternalID: e.ExternalID,
	}, ec2dns.Options{
		CacheTTL: e.CacheTTL, NegativeCacheTTL: e.NegativeCacheTTL, MaxEntries: e.CacheSize,
		QPS: float64(c.Server.EC2DescribeInstancesQPS), Burst: c.Server.EC2DescribeInstancesBurst,
		BatchWindow: e.BatchWindow, MaxBatch: e.BatchSize, Timeout: e.Timeout,
		Metrics: ec2dns.NewMetrics(reg), Logger: log, ScrubbedAccounts: c.Server.ScrubbedAccounts,
	})
	if err != nil {
		return nil, fmt.Errorf("ec2 lookup: %w", err)
	}
	out.ec2 = ec2
	return out, nil
}
