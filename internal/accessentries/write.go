package accessentries

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Documents are the plan's calls in order, each as the --cli-input-json
// document of its aws-cli command: an entry's create-access-entry, then its
// associate-access-policy calls.
func (p *Plan) Documents() []Document {
	var out []Document
	for _, x := range p.Exports {
		out = append(out, Document{Command: "create-access-entry", Input: x.Create})
		for _, a := range x.Associate {
			out = append(out, Document{Command: "associate-access-policy", Input: a})
		}
	}
	return out
}

// Document is one call: the aws eks subcommand and its input.
type Document struct {
	Command string
	Input   any
}

// WriteJSON writes one document per line (JSON Lines), for
// aws eks COMMAND --cli-input-json "$line"; an associate-access-policy
// document is the one with a policyArn.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, d := range p.Documents() {
		if err := enc.Encode(d.Input); err != nil {
			return fmt.Errorf("encode %s: %w", d.Command, err)
		}
	}
	return nil
}

// WriteCLI writes a shell script of aws-cli commands, each entry's origin
// and notes as comments above its commands, and every skipped entry as a
// comment at the end.
func (p *Plan) WriteCLI(w io.Writer) error {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# EKS access entries, written by iamgate export access-entries.\nset -e\n")
	for _, x := range p.Exports {
		fmt.Fprintf(&b, "\n# %s %s (%s)\n", x.Backend, x.Origin.String(), x.Names)
		for _, n := range x.Notes {
			fmt.Fprintf(&b, "#   note: %s\n", oneLine(n))
		}
		c := x.Create
		fmt.Fprintf(&b, "aws eks create-access-entry --cluster-name %s --principal-arn %s --type %s", sh(c.ClusterName), sh(c.PrincipalArn), c.Type)
		if c.Username != "" {
			fmt.Fprintf(&b, " --username %s", sh(c.Username))
		}
		if len(c.KubernetesGroups) > 0 {
			b.WriteString(" --kubernetes-groups")
			for _, g := range c.KubernetesGroups {
				b.WriteString(" " + sh(g))
			}
		}
		b.WriteString("\n")
		for _, a := range x.Associate {
			fmt.Fprintf(&b, "aws eks associate-access-policy --cluster-name %s --principal-arn %s --policy-arn %s --access-scope type=%s\n",
				sh(a.ClusterName), sh(a.PrincipalArn), sh(a.PolicyArn), a.AccessScope.Type)
		}
	}
	if len(p.Skipped) > 0 {
		b.WriteString("\n# Not exported (no access-entry equivalent):\n")
		for _, s := range p.Skipped {
			fmt.Fprintf(&b, "#   %s\n", oneLine(s.String()))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s Skipped) String() string {
	return fmt.Sprintf("%s %s (%s): %s", s.Backend, s.Origin.String(), s.Names, s.Reason)
}

// sh quotes s for a POSIX shell.
func sh(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@=+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
