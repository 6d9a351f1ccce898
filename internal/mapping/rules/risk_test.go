package rules_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func TestRisksWarnAtLoadNamingTheEntry(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	at := func(i int) mapping.Origin {
		return mapping.Origin{File: "cfg.yaml", Section: mapping.SectionRoles, Index: i, Line: 10 + i}
	}
	_, probs := rules.Build("MountedFile", []mapping.Entry{
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/bare", Username: "{{SessionName}}", Origin: at(0)},
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/ok", Username: "dev:{{SessionName}}", Origin: at(1)},
		{Kind: mapping.KindUser, ARN: "arn:aws:iam::111122223333:user/alice", Username: "alice:{{SessionName}}",
			Origin: mapping.Origin{File: "cfg.yaml", Section: mapping.SectionUsers, Index: 0, Line: 20}},
	}, rules.Options{Logger: log})
	if len(probs) != 0 {
		t.Fatalf("risky entries must load: %v", probs)
	}
	out := buf.String()
	for _, want := range []string{"cfg.yaml:10: mapRoles[0]", "they choose their own Kubernetes username", "cfg.yaml:20: mapUsers[0]", "IAM users have no session"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "mapRoles[1]") {
		t.Errorf("a username with literal text first warned:\n%s", out)
	}
}

func TestEC2WarningOnlyWhenAnEntryNeedsIt(t *testing.T) {
	node := mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/node",
		Username: "system:node:{{EC2PrivateDNSName}}", Groups: []string{"system:nodes"}}
	other := mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/dev", Username: "dev"}
	warned := func(es ...mapping.Entry) bool {
		tb, _ := rules.Build("T", es, rules.Options{Logger: slog.New(slog.DiscardHandler)})
		for _, w := range tb.Warnings() {
			if strings.Contains(w, "EC2PrivateDNSName") {
				return true
			}
		}
		return false
	}
	if warned(other) {
		t.Error("EC2 warning without any {{EC2PrivateDNSName}} entry")
	}
	if !warned(other, node) {
		t.Error("no EC2 warning for a {{EC2PrivateDNSName}} entry without an EC2 lookup")
	}
}
