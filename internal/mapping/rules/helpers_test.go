package rules_test

import (
	"errors"

	"github.com/iamgate/iamgate/internal/mapping"
)

func role(arn, username string, groups ...string) mapping.Entry {
	return mapping.Entry{Kind: mapping.KindRole, ARN: arn, Username: username, Groups: groups}
}

func user(arn, username string, groups ...string) mapping.Entry {
	return mapping.Entry{Kind: mapping.KindUser, ARN: arn, Username: username, Groups: groups}
}

func group(arn, username string, groups ...string) mapping.Entry {
	return mapping.Entry{Kind: mapping.KindGroup, ARN: arn, Username: username, Groups: groups}
}

func account(id string) mapping.Entry { return mapping.Entry{Kind: mapping.KindAccount, Account: id} }

// at places e where a parser would have read it.
func at(e mapping.Entry, section string, index int) mapping.Entry {
	e.Origin = mapping.Origin{Section: section, Index: index}
	return e
}

// joined is what a caller that refuses bad input reports: every problem.
func joined(ps []mapping.Problem) error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}
