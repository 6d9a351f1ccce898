package crd

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
)

// Condition reasons written to status.conditions[type=Valid].
const (
	// ReasonValid: the object is in use.
	ReasonValid = "Valid"
	// ReasonInvalidSpec: the spec cannot be used (bad ARN, empty or
	// malformed username, reserved name, bad userID); it grants nothing.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonDuplicateARN: a newer object maps the same principal and wins,
	// so this one grants nothing while that one exists.
	ReasonDuplicateARN = "DuplicateARN"
)

// verdict is what one rebuild decided about one object; the status writer
// turns it into status.
type verdict struct {
	generation   int64
	canonicalARN string // lower-cased, as aws-iam-authenticator writes it; "" when invalid
	valid        bool
	reason       string
	message      string
}

// snapshot is one immutable build: the Table every Map call reads, plus
// which object supplied each entry (for Result.Source) and every
// object's verdict (for status). Rebuilds swap whole snapshots.
type snapshot struct {
	table    *mapping.Table
	owner    map[string]string  // sourceKey of an entry in the table → object name
	verdicts map[string]verdict // object name → verdict
	invalid  int
	tableErr error // table problems about no object (not expected; logged)
}

// entry is one object's spec turned into a mapping of one section.
type entry struct {
	name    string
	gen     int64
	key     string // "role:"+RoleKey, "user:"+lower-cased ARN, or section+":"+lower-cased text
	exact   bool   // a role, user or root ARN (not a pattern or group)
	section string
	role    mapping.RoleMapping
	user    mapping.UserMapping
	group   mapping.GroupMapping
	canon   string
}

// build evaluates objs (the informer's store) into a snapshot. Objects are
// taken oldest first (creation time, then name), so for two objects naming
// one principal the newest wins, like the last of two aws-auth entries.
func build(name string, objs []*unstructured.Unstructured, opts mapping.Options) *snapshot {
	sort.Slice(objs, func(i, j int) bool {
		ti, tj := objs[i].GetCreationTimestamp(), objs[j].GetCreationTimestamp()
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		return objs[i].GetName() < objs[j].GetName()
	})
	s := &snapshot{owner: map[string]string{}, verdicts: make(map[string]verdict, len(objs))}
	invalid := func(name string, gen int64, err error) {
		s.verdicts[name] = verdict{generation: gen, reason: ReasonInvalidSpec, message: err.Error()}
		s.invalid++
	}
	var entries []entry
	winner := map[string]int{} // key → index in entries
	for _, o := range objs {
		if o.GetDeletionTimestamp() != nil {
			continue // being deleted: stop granting now, not when finalizers finish
		}
		e, err := evaluate(o, opts)
		if err != nil {
			invalid(o.GetName(), o.GetGeneration(), err)
			continue
		}
		winner[e.key] = len(entries)
		entries = append(entries, e)
	}
	var used []entry
	for _, e := range entries {
		if w := entries[winner[e.key]]; w.name != e.name {
			s.verdicts[e.name] = verdict{generation: e.gen, canonicalARN: e.canon, reason: ReasonDuplicateARN,
				message: fmt.Sprintf("IAMIdentityMapping %q maps the same principal and, being newer, takes precedence", w.name)}
			continue
		}
		used = append(used, e)
	}
	// Some problems only show with all entries together (two patterns that
	// can match one principal). The table reports them at the later entry:
	// reject that object and build again, until every entry left is in the
	// table, so no object is called valid while granting nothing.
	for {
		var err error
		s.table, err = mapping.NewTableWithOptions(name, specOf(used), opts)
		rejected, other := tableRejects(used, err)
		s.tableErr = other
		if len(rejected) == 0 {
			break
		}
		kept := used[:0]
		for _, e := range used {
			if err, ok := rejected[e.name]; ok {
				invalid(e.name, e.gen, err)
				continue
			}
			kept = append(kept, e)
		}
		used = kept
	}
	for _, e := range used {
		s.verdicts[e.name] = verdict{generation: e.gen, canonicalARN: e.canon, valid: true, reason: ReasonValid,
			message: "in use for " + e.canon}
		s.owner[sourceKey(e.section, e.canon)] = e.name
	}
	return s
}

func specOf(used []entry) mapping.Spec {
	var spec mapping.Spec
	for _, e := range used {
		switch e.section {
		case mapping.SectionRoles:
			spec.Roles = append(spec.Roles, e.role)
		case mapping.SectionUsers:
			spec.Users = append(spec.Users, e.user)
		default:
			spec.Groups = append(spec.Groups, e.group)
		}
	}
	return spec
}

// tableRejects maps the table's problems back to the objects they are
// about (by section and index in specOf's order). Problems about no entry
// are returned joined in other.
func tableRejects(used []entry, err error) (rejected map[string]error, other error) {
	if err == nil {
		return nil, nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	objAt := map[string][]string{} // section → object names in spec order
	for _, e := range used {
		objAt[e.section] = append(objAt[e.section], e.name)
	}
	rejected = map[string]error{}
	var others []error
	for _, e := range errs {
		var p mapping.Problem
		if errors.As(e, &p) && p.Index >= 0 && p.Index < len(objAt[p.Section]) {
			rejected[objAt[p.Section][p.Index]] = fmt.Errorf("invalid spec: %w", p.Err)
			continue
		}
		others = append(others, e)
	}
	return rejected, errors.Join(others...)
}

// evaluate reads and checks one object's spec with the rules every backend
// shares (mapping.*.ValidateWith). spec.arn may be an IAM role, user or
// root ARN, an assumed-role ARN (standing for its role), an IAM group ARN
// or a role/user pattern, whatever a mapRoles/mapUsers/mapGroups entry may
// hold.
func evaluate(o *unstructured.Unstructured, opts mapping.Options) (entry, error) {
	e := entry{name: o.GetName(), gen: o.GetGeneration()}
	var a, username, userID string
	var err error
	for field, dst := range map[string]*string{"arn": &a, "username": &username, "userID": &userID} {
		if *dst, _, err = unstructured.NestedString(o.Object, "spec", field); err != nil {
			return e, fmt.Errorf("spec.%s: %w", field, err)
		}
	}
	groups, _, err := unstructured.NestedStringSlice(o.Object, "spec", "groups")
	if err != nil {
		return e, fmt.Errorf("spec.groups: %w", err)
	}
	if a == "" {
		return e, errors.New("spec.arn is empty")
	}
	e.role = mapping.RoleMapping{RoleARN: a, Username: username, Groups: groups, UserID: userID}
	e.user = mapping.UserMapping{UserARN: a, Username: username, Groups: groups, UserID: userID}
	e.group = mapping.GroupMapping{GroupARN: a, Username: username, Groups: groups, UserID: userID}
	p, perr := arn.Parse(a)
	switch {
	case perr == nil && (p.Type == arn.TypeRole || p.Type == arn.TypeAssumedRole):
		key, _ := p.RoleKey()
		e.section, e.key, e.exact = mapping.SectionRoles, "role:"+key, true
		err = e.role.ValidateWith(opts)
	case perr == nil && (p.Type == arn.TypeUser || p.Type == arn.TypeRoot):
		e.section, e.key, e.exact = mapping.SectionUsers, "user:"+strings.ToLower(p.String()), true
		err = e.user.ValidateWith(opts)
	case perr == nil:
		return e, fmt.Errorf("spec.arn %q is a %s ARN; map IAM roles, users, groups or the account root", a, p.Type)
	default:
		// Not a principal ARN: an IAM group or a pattern, if the shared
		// rules accept it; otherwise say why as a role, user or group.
		e.section, err = fallback(a, e, opts, perr)
		e.key = e.section + ":" + strings.ToLower(a)
	}
	if err != nil {
		return e, fmt.Errorf("invalid spec: %w", err)
	}
	if e.exact {
		e.canon = strings.ToLower(p.Canonical().String())
	} else {
		e.canon = strings.ToLower(a)
	}
	return e, nil
}

// fallback picks the section for an ARN arn.Parse refused.
func fallback(a string, e entry, opts mapping.Options, perr error) (string, error) {
	roleErr, userErr, groupErr := e.role.ValidateWith(opts), e.user.ValidateWith(opts), e.group.ValidateWith(opts)
	switch {
	case roleErr == nil:
		return mapping.SectionRoles, nil
	case userErr == nil:
		return mapping.SectionUsers, nil
	case groupErr == nil:
		return mapping.SectionGroups, nil
	case strings.Contains(a, ":role/"):
		return mapping.SectionRoles, roleErr
	case strings.Contains(a, ":user/"):
		return mapping.SectionUsers, userErr
	case strings.Contains(a, ":group/"):
		return mapping.SectionGroups, groupErr
	}
	return "", fmt.Errorf("arn: %w", perr)
}

// sourceKey identifies an entry by what the Table puts in Result.Source
// after the backend name: "mapRoles[arn:aws:iam::1:role/admin]". The Table
// writes the ARN canonicalized (exact ARNs) or as given with its fixed words
// lower-cased (patterns, groups); comparing lower-cased covers both.
func sourceKey(section, canon string) string {
	return strings.ToLower(section + "[" + canon + "]")
}
