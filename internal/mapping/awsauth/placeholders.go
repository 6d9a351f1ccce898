package awsauth

import (
	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Refused entries stand in for entries the parser skips (Entry.Refused), so
// that a skipped entry still counts as the last entry for the role, user,
// pattern, permission set or group it names: rules.Build denies that
// principal rather than let an earlier entry for it come back into force.
// Only what names the principal is kept.

// appendRefused appends the refused entry m (only what names its
// principal kept) when that can be read: one role, user or group ARN, one
// safe pattern or one SSO permission set.
func appendRefused(out []mapping.Entry, m mapping.Entry, p *problem) []mapping.Entry {
	m = mapping.Entry{Kind: m.Kind, ARN: m.ARN, SSO: m.SSO, Origin: m.Origin}
	if rules.CheckTarget(m) != nil {
		return out
	}
	m.Refused = p.Err
	return append(out, m)
}

// salvagedKey is an ARN or sso block read from an entry readEntry refused.
type salvagedKey struct {
	arn string
	sso *mapping.SSO
}

// salvageKeys reads, from an entry readEntry refused, every value of arnKey
// that is a string and (with allowSSO) every permission set an sso block
// names (salvageSSO), written in the entry or merged into it (x.salvage),
// whatever else is wrong with the entry: each names a principal the entry
// was meant for, which it must shadow.
func salvageKeys(e *yaml.Node, arnKey string, allowSSO bool, x *expander) []salvagedKey {
	want := func(name string) bool { return name == arnKey || allowSSO && name == keySSO }
	var out []salvagedKey
	for _, f := range x.salvage(e, want) {
		if f.name == arnKey {
			if s, err := readString(f.val); err == nil {
				out = append(out, salvagedKey{arn: s})
			}
			continue
		}
		for _, sso := range salvageSSO(f.val, x) {
			out = append(out, salvagedKey{sso: sso})
		}
	}
	return out
}

// maxSalvagedValues bounds the values salvageSSO takes of one key, so that
// a block repeating its keys cannot make it build a huge product.
const maxSalvagedValues = 8

// salvageSSO reads the permission sets an sso block names even when readSSO
// refuses it (an unknown or repeated key, say): every readable
// permissionSetName with every readable accountID, in each readable
// partition or, when the block gives none, the default. A null partition
// is the default, as in readSSO. A block whose partition is given but
// unreadable names none. ssoTarget later drops combinations that name
// nothing valid.
func salvageSSO(v *yaml.Node, x *expander) []*mapping.SSO {
	var names, accts, parts []string
	partGiven := false
	add := func(dst *[]string, s string) {
		if len(*dst) < maxSalvagedValues {
			*dst = append(*dst, s)
		}
	}
	want := func(name string) bool {
		return name == keySSOPermissionSet || name == keySSOAccountID || name == keySSOPartition
	}
	for _, f := range x.salvage(v, want) {
		val := f.val
		s, err := readString(val)
		switch f.name {
		case keySSOPermissionSet:
			if err == nil {
				add(&names, s)
			}
		case keySSOAccountID:
			if isNumber(val) {
				s, err = val.Value, nil
			}
			if err == nil {
				add(&accts, s)
			}
		case keySSOPartition:
			partGiven = true
			if isNull(val) {
				s, err = "", nil
			}
			if err == nil {
				add(&parts, s)
			}
		}
	}
	if !partGiven {
		parts = []string{""}
	}
	var out []*mapping.SSO
	for _, n := range names {
		for _, a := range accts {
			for _, p := range parts {
				out = append(out, &mapping.SSO{PermissionSetName: n, AccountID: a, Partition: p})
			}
		}
	}
	return out
}
