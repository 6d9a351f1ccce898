package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/awsauthedit"
	"github.com/iamgate/iamgate/internal/lint"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/crd"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// runCRDEdit creates, replaces or deletes IAMIdentityMapping objects.
// Each object is written with the resourceVersion it was read at (or
// created, which fails if the name is taken), and the whole decision is
// made again on a conflict.
func runCRDEdit(ctx context.Context, rc *rest.Config, f *editFlags, op editOp, opts rules.Options, streams Streams) error {
	switch {
	case op.entry.Kind == mapping.KindAccount:
		return errors.New("IAMIdentityMapping objects cannot map a whole account (no such field); use --backend EKSConfigMap")
	case op.entry.SSO != nil:
		return errors.New("IAMIdentityMapping objects have no sso field; use --backend EKSConfigMap, or map the role ARN")
	}
	client, err := dynamic.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	res := client.Resource(crd.GVR)
	var summary string
	var warnings []string
	var out *unstructured.Unstructured
	err = retry.RetryOnConflict(editBackoff, func() error {
		list, err := res.List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list IAMIdentityMappings (is the CRD installed? deploy/crd): %w", err)
		}
		p, err := planCRD(list.Items, op, f, opts)
		if err != nil {
			return err
		}
		summary, warnings, out = p.summary, p.warnings, p.after
		if f.dryRun {
			_, err := io.WriteString(streams.Out, p.diff)
			return err
		}
		if f.prompt {
			if err := confirm(streams, p.diff, false); err != nil {
				return err
			}
			f.prompt = false // asked once; a retry re-applies what was agreed
		}
		switch {
		case op.remove:
			for _, o := range p.deletes {
				rv, uid := o.GetResourceVersion(), o.GetUID()
				err := res.Delete(ctx, o.GetName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv, UID: &uid}})
				if err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
		case p.before != nil:
			out, err = res.Update(ctx, p.after, metav1.UpdateOptions{FieldManager: "iamgate"})
		default:
			out, err = res.Create(ctx, p.after, metav1.CreateOptions{FieldManager: "iamgate"})
			if apierrors.IsAlreadyExists(err) {
				err = apierrors.NewConflict(crd.GVR.GroupResource(), p.after.GetName(), err)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(streams.Err, "warning:", w)
	}
	if f.dryRun {
		summary += " (dry run, nothing written)"
	}
	fmt.Fprintln(streams.Err, summary)
	if f.output != "" && out != nil && !op.remove {
		return printObject(streams.Out, out.Object, f.output)
	}
	return nil
}

type crdPlan struct {
	summary, diff string
	warnings      []string
	before, after *unstructured.Unstructured // add or replace
	deletes       []*unstructured.Unstructured
}

// planCRD works op out against the objects there are.
func planCRD(objs []unstructured.Unstructured, op editOp, f *editFlags, opts rules.Options) (crdPlan, error) {
	var p crdPlan
	key := awsauthedit.Key(op.entry)
	var all, matches []mapping.Entry
	var matched []*unstructured.Unstructured
	for i := range objs {
		e := crdEntry(&objs[i])
		all = append(all, e)
		if awsauthedit.Key(e) == key {
			matches, matched = append(matches, e), append(matched, &objs[i])
		}
	}
	var next []mapping.Entry
	switch {
	case op.remove:
		if len(matches) == 0 {
			return p, fmt.Errorf("no IAMIdentityMapping maps %s", op.entry.ARN)
		}
		if len(matches) > 1 && !f.all {
			return p, fmt.Errorf("%d IAMIdentityMappings map %s; nothing deleted (pass --all to delete every one):\n%s", len(matches), op.entry.ARN, listEntries(matches))
		}
		p.deletes = matched
		for _, e := range all {
			if awsauthedit.Key(e) != key {
				next = append(next, e)
			}
		}
		for _, o := range matched {
			p.diff += objectDiff(o, nil)
		}
		p.summary = fmt.Sprintf("deleted %d IAMIdentityMapping %s for %s", len(matched), plural(len(matched), "object", "objects"), op.entry.ARN)
	default:
		e := op.entry
		e.Kind = crdKind(e.ARN, e.Kind)
		if err := checkEntry(e, opts); err != nil {
			return p, err
		}
		switch {
		case len(matches) > 0 && !f.replace:
			return p, fmt.Errorf("IAMIdentityMapping already maps %s:\n%s\nnothing added (pass --replace to replace it)", e.ARN, listEntries(matches))
		case len(matches) > 1:
			return p, fmt.Errorf("%d IAMIdentityMappings map %s; --replace replaces one: delete them first (iamgate remove --all --backend CRD):\n%s", len(matches), e.ARN, listEntries(matches))
		case len(matches) == 1:
			p.before = matched[0]
			p.after = p.before.DeepCopy()
			p.summary = "replaced IAMIdentityMapping " + p.before.GetName()
		default:
			p.after = &unstructured.Unstructured{Object: map[string]any{}}
			p.after.SetAPIVersion(crd.Group + "/" + crd.Version)
			p.after.SetKind(crd.Kind)
			p.after.SetName(crdObjectName(e))
			p.summary = "created IAMIdentityMapping " + p.after.GetName()
		}
		spec := map[string]any{"arn": e.ARN, "username": e.Username}
		if len(e.Groups) > 0 {
			gs := make([]any, len(e.Groups))
			for i, g := range e.Groups {
				gs[i] = g
			}
			spec["groups"] = gs
		}
		p.after.Object["spec"] = spec
		for _, o := range all {
			if awsauthedit.Key(o) != key {
				next = append(next, o)
			}
		}
		next = append(next, e)
		p.diff = objectDiff(p.before, p.after)
	}
	if err := checkLockout(all, next, f.force); err != nil {
		return p, err
	}
	var err error
	lo := lint.Options{Rules: opts}
	p.warnings, err = newFindings(lint.Entries(all, nil, lo), lint.Entries(next, nil, lo), f.force)
	return p, err
}

// crdEntry reads an object's spec as the CRD backend would name it.
func crdEntry(o *unstructured.Unstructured) mapping.Entry {
	a, _, _ := unstructured.NestedString(o.Object, "spec", "arn")
	u, _, _ := unstructured.NestedString(o.Object, "spec", "username")
	g, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "groups")
	id, _, _ := unstructured.NestedString(o.Object, "spec", "userID")
	return mapping.Entry{Kind: crdKind(a, mapping.KindRole), ARN: a, Username: u, Groups: g, UserID: id,
		Origin: mapping.Origin{Backend: crd.DefaultName, Object: o.GetName(), Section: mapping.SectionSpec}}
}

// crdKind is the kind spec.arn names: a user or root ARN maps a user, a
// group ARN a group; anything else keeps def.
func crdKind(s string, def mapping.Kind) mapping.Kind {
	if p, err := arn.Parse(s); err == nil && (p.Type == arn.TypeUser || p.Type == arn.TypeRoot) {
		return mapping.KindUser
	}
	if strings.Contains(s, ":group/") {
		return mapping.KindGroup
	}
	return def
}

var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

// crdObjectName is a DNS-1123 name for an object mapping e: readable
// (kind, account, name) and unique per ARN (a hash of it).
func crdObjectName(e mapping.Entry) string {
	sum := sha256.Sum256([]byte(strings.ToLower(e.ARN)))
	base := strings.ToLower(e.ARN)
	if i := strings.Index(base, "::"); i >= 0 {
		base = base[i+2:]
	}
	base = strings.Trim(nonName.ReplaceAllString(base, "-"), "-")
	if len(base) > 50 {
		base = strings.Trim(base[:50], "-")
	}
	return base + "-" + hex.EncodeToString(sum[:4])
}

// objectDiff is a unified diff of an object's YAML (nil: absent), without
// the fields the server manages.
func objectDiff(before, after *unstructured.Unstructured) string {
	render := func(o *unstructured.Unstructured) (string, string) {
		if o == nil {
			return "", "/dev/null"
		}
		c := o.DeepCopy()
		unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
		b, _ := yaml.Marshal(c.Object)
		return string(b), "iamidentitymapping/" + o.GetName()
	}
	a, an := render(before)
	b, bn := render(after)
	if an != "/dev/null" {
		an = "a/" + an
	}
	if bn != "/dev/null" {
		bn = "b/" + bn
	}
	return udiff.Unified(an, bn, a, b)
}
