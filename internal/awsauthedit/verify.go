package awsauthedit

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

// verify parses before and after with the server's parser and checks that
// after holds before's entries, in order and unchanged, minus those at
// removed, plus added (at index at, or at the end when at < 0). It is the
// guard against a splice that went wrong: a failure refuses the edit.
func verify(section, before, after string, removed []int, added *mapping.Entry, at int) error {
	b, bps := awsauth.ParseSectionYAML(section, []byte(before), awsauth.Source{})
	a, aps := awsauth.ParseSectionYAML(section, []byte(after), awsauth.Source{})
	if len(aps) > len(bps) {
		return fmt.Errorf("refusing the edit: the edited %s reads back with a new problem: %v", section, aps[len(aps)-1])
	}
	want := []shape{}
	inserted := added == nil || at < 0
	for _, e := range b {
		if !inserted && e.Origin.Index >= at {
			want, inserted = append(want, shapeOf(*added)), true
		}
		if !slices.Contains(removed, e.Origin.Index) {
			want = append(want, shapeOf(e))
		}
	}
	if added != nil && !inserted || added != nil && at < 0 {
		want = append(want, shapeOf(*added))
	}
	got := make([]shape, 0, len(a))
	for _, e := range a {
		got = append(got, shapeOf(e))
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("refusing the edit: the edited %s would not read back as intended (%d entries, want %d); edit it by hand and report this", section, len(got), len(want))
	}
	return nil
}

// shape is what an entry says, without where it is.
type shape struct {
	Kind     mapping.Kind
	ARN      string
	SSO      mapping.SSO
	HasSSO   bool
	Account  string
	Username string
	Groups   []string
	UserID   string
	Refused  string
}

func shapeOf(e mapping.Entry) shape {
	s := shape{Kind: e.Kind, ARN: e.ARN, Account: e.Account, Username: e.Username, UserID: e.UserID}
	if len(e.Groups) > 0 {
		s.Groups = e.Groups
	}
	if e.SSO != nil {
		s.SSO, s.HasSSO = *e.SSO, true
	}
	if e.Refused != nil {
		s.Refused = "refused"
	}
	return s
}
