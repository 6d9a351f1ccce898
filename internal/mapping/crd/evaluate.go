package crd

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Condition reasons written to status.conditions[type=Valid].
const (
	// ReasonValid: the object is in use.
	ReasonValid = "Valid"
	// ReasonInvalidSpec: the spec cannot be used (bad ARN, empty or
	// malformed username, reserved name, bad userID, a pattern that
	// overlaps another object's); it grants nothing. When its spec.arn
	// still names a principal or pattern and it is the newest object for
	// it, it denies what it names (see placeholder).
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonDuplicateARN: a newer object, valid or not, maps the same
	// principal and wins, so this one grants nothing while that one exists;
	// or objects created in the same second as this one map the principal
	// differently, so none wins and the principal is denied.
	ReasonDuplicateARN = "DuplicateARN"
)

// entry is one object's spec turned into a mapping of one section, or a
// placeholder for an invalid object that still names one principal.
type entry struct {
	name    string
	gen     int64
	key     string // "role:"+RoleKey, "user:"+lower-cased ARN, "mapGroups:"+group key, or section+":"+lower-cased text
	exact   bool   // a role, user or root ARN (not a pattern or group)
	section string
	m       mapping.Entry // the spec as an entry of section's kind
	canon   string
	userID  string // spec.userID
	// placeholder marks the stand-in for an invalid object: its entry
	// carries only the principal, refused, so the table denies that
	// principal rather than let an older entry for it apply.
	placeholder bool

	created   int64   // the object's creationTimestamp, in seconds
	tied      []entry // the newest objects for key, created in one second and mapping it differently (pickNewest)
	explained bool    // a placeholder whose verdict already says what it denies
}

// evaluate reads and checks one object's spec with the rules every backend
// shares (rules.Check). spec.arn may be an IAM role, user or
// root ARN, an assumed-role ARN (standing for its role), an IAM group ARN
// or a role/user pattern, whatever a mapRoles/mapUsers/mapGroups entry may
// hold.
func evaluate(o *unstructured.Unstructured, opts rules.Options) (entry, error) {
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
	e.m = mapping.Entry{ARN: a, Username: username, Groups: groups, UserID: userID,
		Origin: mapping.Origin{Backend: DefaultName, Object: o.GetName(), Section: mapping.SectionSpec}}
	p, perr := arn.Parse(a)
	switch {
	case perr == nil && (p.Type == arn.TypeRole || p.Type == arn.TypeAssumedRole):
		key, _ := p.RoleKey()
		e.section, e.key, e.exact = mapping.SectionRoles, "role:"+key, true
		err = e.check(opts)
	case perr == nil && (p.Type == arn.TypeUser || p.Type == arn.TypeRoot):
		e.section, e.key, e.exact = mapping.SectionUsers, "user:"+strings.ToLower(p.String()), true
		err = e.check(opts)
	case perr == nil:
		return e, fmt.Errorf("spec.arn %q is a %s ARN; map IAM roles, users, groups or the account root", a, p.Type)
	default:
		// Not a principal ARN: an IAM group or a pattern, if the shared
		// rules accept it; otherwise say why as a role, user or group.
		e.section, err = fallback(a, e, opts, perr)
		e.key = e.section + ":" + strings.ToLower(a)
		if key, ok := groupKey(a); ok && e.section == mapping.SectionGroups {
			e.key = e.section + ":" + key // one group under two paths is one principal
		}
	}
	e.m.Kind = kinds[e.section]
	if err != nil {
		return e, fmt.Errorf("invalid spec: %w", err)
	}
	if e.exact {
		e.canon = strings.ToLower(p.Canonical().String())
	} else {
		e.canon = strings.ToLower(a)
	}
	e.userID = userID
	return e, nil
}

// placeholder returns the stand-in for the invalid object o when its
// spec.arn, whatever else is wrong with the spec, still names one
// principal (an IAM role or an assumed-role session of it, a user, the
// root, a group) or one pattern the shared rules accept. It gets the key a
// valid object for the same principal or pattern gets, so, the newest
// object winning, it shadows older objects for it, and the table denies
// what it names instead of letting them apply. A spec.arn that does not
// parse, is an unsafe pattern or is another kind of ARN names no one and
// shadows nothing.
func placeholder(o *unstructured.Unstructured, cause error) (entry, bool) {
	a, _, err := unstructured.NestedString(o.Object, "spec", "arn")
	if err != nil || a == "" {
		return entry{}, false
	}
	e := entry{name: o.GetName(), gen: o.GetGeneration(),
		m: mapping.Entry{ARN: a, Origin: mapping.Origin{Backend: DefaultName, Object: o.GetName(), Section: mapping.SectionSpec}}}
	p, perr := arn.Parse(a)
	switch {
	case perr == nil && (p.Type == arn.TypeRole || p.Type == arn.TypeAssumedRole):
		key, _ := p.RoleKey()
		e.section, e.key, e.exact = mapping.SectionRoles, "role:"+key, true
		e.canon = strings.ToLower(p.Canonical().String())
		return e.asPlaceholder(cause), true
	case perr == nil && (p.Type == arn.TypeUser || p.Type == arn.TypeRoot):
		e.section, e.key, e.exact = mapping.SectionUsers, "user:"+strings.ToLower(p.String()), true
		e.canon = strings.ToLower(p.Canonical().String())
		return e.asPlaceholder(cause), true
	case perr == nil:
		return entry{}, false
	}
	// As in evaluate: a pattern or a group, if the shared rules accept the
	// ARN with a plain username.
	switch key, isGroup := groupKey(a); {
	case isGroup:
		e.section, e.key = mapping.SectionGroups, mapping.SectionGroups+":"+key
	case probe(mapping.KindRole, a):
		e.section = mapping.SectionRoles
	case probe(mapping.KindUser, a):
		e.section = mapping.SectionUsers
	default:
		return entry{}, false
	}
	if e.key == "" {
		e.key = e.section + ":" + strings.ToLower(a)
	}
	e.canon = strings.ToLower(a)
	return e.asPlaceholder(cause), true
}

// asPlaceholder turns e, an entry that cannot be used because of cause,
// into its placeholder: what it names only, refused, which the table turns
// into a tombstone (see mapping.Entry.Refused).
func (e entry) asPlaceholder(cause error) entry {
	why := fmt.Errorf("%s %q: %w", Kind, e.name, cause)
	return entry{name: e.name, gen: e.gen, key: e.key, exact: e.exact, section: e.section, canon: e.canon, created: e.created,
		m:           mapping.Entry{Kind: kinds[e.section], ARN: e.m.ARN, Origin: e.m.Origin, Refused: why},
		placeholder: true}
}

// kinds are the entry kinds of the sections an object's spec falls in.
var kinds = map[string]mapping.Kind{
	mapping.SectionRoles: mapping.KindRole, mapping.SectionUsers: mapping.KindUser, mapping.SectionGroups: mapping.KindGroup,
}

// check validates e's spec as an entry of its section with opts.
func (e entry) check(opts rules.Options) error {
	m := e.m
	m.Kind = kinds[e.section]
	_, err := rules.Check(m, opts)
	return err
}

// probe reports whether the shared rules accept a as what an entry of
// kind k names (checked with a plain username).
func probe(k mapping.Kind, a string) bool {
	_, err := rules.Check(mapping.Entry{Kind: k, ARN: a, Username: "probe"}, rules.Options{})
	return err == nil
}

// groupKey returns what two ARNs of one IAM group have in common, as the
// table files groups: the ARN lower-cased without its path (group names are
// unique in an account). ok is false unless the shared rules accept a as a
// group ARN (checked on an entry with a plain username).
func groupKey(a string) (string, bool) {
	if !probe(mapping.KindGroup, a) {
		return "", false
	}
	parts := strings.SplitN(a, ":", 6)
	if len(parts) != 6 {
		return "", false
	}
	name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	return strings.ToLower(strings.Join(parts[:5], ":") + ":group/" + name), true
}

// fallback picks the section for an ARN arn.Parse refused.
func fallback(a string, e entry, opts rules.Options, perr error) (string, error) {
	try := func(section string) error { e.section = section; return e.check(opts) }
	roleErr, userErr, groupErr := try(mapping.SectionRoles), try(mapping.SectionUsers), try(mapping.SectionGroups)
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
