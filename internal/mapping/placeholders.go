package mapping

import yaml "sigs.k8s.io/yaml/goyaml.v3"

// Placeholders stand in for entries the parsers skip (RoleMapping.Rejected),
// so that a skipped entry still counts as the last entry for the role, user,
// pattern, permission set or group it names: NewTableWithOptions denies
// that principal rather than let an earlier entry for it come back into
// force. Only what names the principal is kept.

// appendRolePlaceholder appends a placeholder for the skipped entry m when
// m names one role, one safe pattern or one SSO permission set.
func appendRolePlaceholder(out []RoleMapping, m RoleMapping, p *Problem) []RoleMapping {
	m = RoleMapping{RoleARN: m.RoleARN, SSO: m.SSO}
	tg, err := roleTarget(m)
	if err != nil {
		return out
	}
	m = normalizeRole(m, tg)
	m.Rejected = p.Error()
	return append(out, m)
}

// appendUserPlaceholder appends a placeholder for a skipped entry for the
// user (or root) ARN or safe user pattern s, when s is one.
func appendUserPlaceholder(out []UserMapping, s string, p *Problem) []UserMapping {
	tg, err := userTarget(s)
	if err != nil {
		return out
	}
	return append(out, UserMapping{UserARN: tg.canon, Rejected: p.Error()})
}

// appendGroupPlaceholder is appendUserPlaceholder for mapGroups.
func appendGroupPlaceholder(out []GroupMapping, s string, p *Problem) []GroupMapping {
	tg, err := groupTarget(s)
	if err != nil {
		return out
	}
	return append(out, GroupMapping{GroupARN: tg.canon, Rejected: p.Error()})
}

// salvagedKey is an ARN or sso block read from an entry readEntry refused.
type salvagedKey struct {
	arn string
	sso *SSOMapping
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
func salvageSSO(v *yaml.Node, x *expander) []*SSOMapping {
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
	var out []*SSOMapping
	for _, n := range names {
		for _, a := range accts {
			for _, p := range parts {
				out = append(out, &SSOMapping{PermissionSetName: n, AccountID: a, Partition: p})
			}
		}
	}
	return out
}
