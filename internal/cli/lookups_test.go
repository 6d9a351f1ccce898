package cli

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

// The iamGroupsRoleARNs config reaches the resolver: a user of the listed
// account is looked up in that account (moto: credentials of an assumed
// role act in the role's account), not in the server's own.
func TestResolversIAMGroupsRoleForAccount(t *testing.T) {
	const other = "210987654321"
	moto.Env(t)
	ctx := context.Background()
	user := "cli-xacct-" + strconv.FormatInt(time.Now().UnixNano(), 36) // the moto server is shared
	out, err := moto.STS(t).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + other + ":role/setup"), RoleSessionName: aws.String("setup"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := moto.Config(moto.URL(t), nil)
	k := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), aws.ToString(k.SessionToken))
	ic := iam.NewFromConfig(cfg)
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	g, err := ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(user + "-devs")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: g.Group.GroupName, UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}

	c := &config.Config{Server: config.Server{IAMGroups: config.IAMGroupsLookup{
		AccountID:  moto.AccountID,
		RoleARNs:   map[string]string{other: "arn:aws:iam::" + other + ":role/iamgate-iam-groups"},
		ExternalID: "ext",
	}}}
	res, err := newResolvers(ctx, c, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	groups, err := res.groups.GroupsForUser(ctx, "arn:aws:iam::"+other+":user/"+user)
	if err != nil || len(groups) != 1 || groups[0] != aws.ToString(g.Group.Arn) {
		t.Fatalf("GroupsForUser = %v, %v; want [%s]", groups, err, aws.ToString(g.Group.Arn))
	}
}

// Roles need a region for STS: without one the server does not start.
func TestResolversIAMGroupsRolesNeedRegion(t *testing.T) {
	moto.SetEnv(t, "http://127.0.0.1:1")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	c := &config.Config{Server: config.Server{IAMGroups: config.IAMGroupsLookup{
		RoleARNs: map[string]string{"210987654321": "arn:aws:iam::210987654321:role/r"},
	}}}
	_, err := newResolvers(context.Background(), c, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err == nil || !strings.Contains(err.Error(), "iam groups lookup") || !strings.Contains(err.Error(), "region") {
		t.Fatalf("err = %v, want an iam groups lookup error about the region", err)
	}
}
