package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamgate/iamgate/internal/mapping"
)

// editFlags are the flags add and remove share: aws-iam-authenticator's
// `add user|role` flags unchanged, and iamgate's own.
type editFlags struct {
	kubeconfig, context, master string
	configFile                  string
	prompt, dryRun, force       bool
	replace, all                bool
	output, backend             string

	arn      string
	sso      string
	username string
	groups   []string
}

func (f *editFlags) addCommon(fs *pflag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig `file` (default: $KUBECONFIG, ~/.kube/config)")
	fs.StringVar(&f.context, "kubeconfig-context", "", "kubeconfig `context` (default: the current one)")
	fs.StringVar(&f.master, "master-url", "", "apiserver `URL`, overriding the kubeconfig's")
	fs.StringVarP(&f.configFile, "config", "c", "", "the server's config `file`: validate with its reserved names and feature gates (default: the server's defaults)")
	fs.BoolVar(&f.prompt, "prompt", true, "show the change on stderr and ask before writing (--prompt=false for scripts)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print a unified diff of the change and write nothing")
	fs.BoolVar(&f.force, "force", false, "write despite lint errors in the result, or removing the last node-role or system:masters entry")
	fs.StringVarP(&f.output, "output", "o", "", "print the resulting object: yaml or json")
	fs.StringVar(&f.backend, "backend", backendConfigMap, "where mappings live: EKSConfigMap (kube-system/aws-auth) or CRD (IAMIdentityMapping objects)")
}

const (
	backendConfigMap = "EKSConfigMap"
	backendCRD       = "CRD"
)

func (f *editFlags) check() error {
	if f.backend != backendConfigMap && f.backend != backendCRD {
		return fmt.Errorf("--backend %q: want EKSConfigMap or CRD", f.backend)
	}
	if f.output != "" && f.output != "yaml" && f.output != "json" {
		return fmt.Errorf("--output %q: want yaml or json", f.output)
	}
	return nil
}

// editKind is one of the four kinds of entry add and remove handle.
type editKind struct {
	name, section, arnFlag string
	kind                   mapping.Kind
	sso                    bool // role: --sso instead of --rolearn
}

var editKinds = []editKind{
	{"role", mapping.SectionRoles, "rolearn", mapping.KindRole, true},
	{"user", mapping.SectionUsers, "userarn", mapping.KindUser, false},
	{"group", mapping.SectionGroups, "grouparn", mapping.KindGroup, false},
	{"account", mapping.SectionAccounts, "", mapping.KindAccount, false},
}

// target builds the entry the flags name: what add writes, or what remove
// selects (by ARN, sso block or account).
func (f *editFlags) target(k editKind, args []string, withNames bool) (mapping.Entry, error) {
	e := mapping.Entry{Kind: k.kind}
	switch {
	case k.kind == mapping.KindAccount:
		if len(args) != 1 {
			return e, errors.New("name one account: iamgate " + map[bool]string{true: "add", false: "remove"}[withNames] + " account 111122223333")
		}
		e.Account = args[0]
		return e, nil
	case len(args) > 0:
		return e, fmt.Errorf("unexpected argument %q; name the %s with --%s", args[0], k.name, k.arnFlag)
	case k.sso && f.sso != "":
		if f.arn != "" {
			return e, errors.New("give --rolearn or --sso, not both")
		}
		s, err := parseSSOFlag(f.sso)
		if err != nil {
			return e, err
		}
		e.Kind, e.SSO = mapping.KindSSO, s
	case f.arn == "":
		more := ""
		if k.sso {
			more = " (or --sso permissionSetName=NAME,accountID=ACCOUNT)"
		}
		return e, fmt.Errorf("--%s is required%s", k.arnFlag, more)
	default:
		e.ARN = f.arn
	}
	if withNames {
		e.Username = f.username
		for _, g := range f.groups {
			if g = strings.TrimSpace(g); g != "" {
				e.Groups = append(e.Groups, g)
			}
		}
		if e.Username == "" {
			return e, errors.New("--username is required (e.g. --username 'dev:{{SessionName}}')")
		}
	}
	return e, nil
}

// parseSSOFlag reads aws-iam-authenticator's
// permissionSetName=NAME,accountID=ACCOUNT[,partition=PARTITION].
func parseSSOFlag(v string) (*mapping.SSO, error) {
	s := &mapping.SSO{}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || val == "" {
			return nil, fmt.Errorf("--sso %q: want permissionSetName=NAME,accountID=ACCOUNT[,partition=PARTITION]", v)
		}
		switch strings.ToLower(k) {
		case "permissionsetname":
			s.PermissionSetName = val
		case "accountid":
			s.AccountID = val
		case "partition":
			s.Partition = val
		default:
			return nil, fmt.Errorf("--sso: unknown key %q (want permissionSetName, accountID, partition)", k)
		}
	}
	if s.PermissionSetName == "" || s.AccountID == "" {
		return nil, fmt.Errorf("--sso %q: permissionSetName and accountID are both required", v)
	}
	return s, nil
}

// NewAddCommand adds one mapping to aws-auth (or one IAMIdentityMapping).
func NewAddCommand(deps Deps, streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add (role|user|group|account)",
		Short: "Add a mapping to aws-auth, changing nothing else",
		Long: `Add one entry to the kube-system/aws-auth ConfigMap (or one IAMIdentityMapping
object with --backend CRD). Only the new entry's text is written: every other
entry, comment, blank line, key and label stays byte for byte. The entry is
checked with the server's own rules, and the result with iamgate's lint:
lint errors refuse the edit unless --force. A principal already mapped is
refused unless --replace, which rewrites that one entry in place.

The write carries the resourceVersion it read; when someone else wrote in
between, the ConfigMap is read again and the edit re-applied (bounded
backoff), so concurrent edits never overwrite each other. A missing
aws-auth is created (and iamgate says so).

Exit status: 0 written (or nothing to write with --dry-run), 1 refused or failed.`,
		Example: `  iamgate add role --rolearn arn:aws:iam::111122223333:role/devs \
    --username 'devs:{{SessionName}}' --groups devs,viewers --prompt=false
  iamgate add role --sso permissionSetName=Admin,accountID=111122223333 \
    --username 'admin:{{SessionName}}' --groups admins --dry-run
  iamgate add user --userarn arn:aws:iam::111122223333:user/alice --username alice --groups ops
  iamgate add group --grouparn arn:aws:iam::111122223333:group/ops --username 'ops:{{SessionName}}' --groups ops
  iamgate add account 444455556666`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, k := range editKinds {
		cmd.AddCommand(newAddKindCommand(k, deps, streams))
	}
	return cmd
}

func newAddKindCommand(k editKind, deps Deps, streams Streams) *cobra.Command {
	f := &editFlags{}
	use, example := k.name+" --"+k.arnFlag+" ARN --username NAME [--groups G,...]", ""
	switch k.name {
	case "account":
		use, example = "account ACCOUNT", "  iamgate add account 444455556666 --dry-run"
	case "role":
		use = "role (--rolearn ARN | --sso permissionSetName=NAME,accountID=ACCOUNT) --username NAME [--groups G,...]"
		example = "  iamgate add role --rolearn arn:aws:iam::111122223333:role/devs --username 'devs:{{SessionName}}' --groups devs"
	default:
		example = fmt.Sprintf("  iamgate add %s --%s arn:aws:iam::111122223333:%s/ops --username 'ops:{{SessionName}}' --groups ops", k.name, k.arnFlag, k.name)
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   "Add a " + k.section + " entry",
		Example: example,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			e, err := f.target(k, args, k.kind != mapping.KindAccount)
			if err != nil {
				return err
			}
			return runEdit(cmd.Context(), f, editOp{section: k.section, entry: e}, deps, streams)
		},
	}
	fs := cmd.Flags()
	f.addCommon(fs)
	fs.BoolVar(&f.replace, "replace", false, "replace the one existing entry for this principal, in place")
	if k.kind != mapping.KindAccount {
		fs.StringVar(&f.arn, k.arnFlag, "", "the IAM "+k.name+" `ARN` to map")
		fs.StringVar(&f.username, "username", "", "Kubernetes user `name` (templates: {{SessionName}}, {{AccountID}}, ...)")
		fs.StringSliceVar(&f.groups, "groups", nil, "Kubernetes `groups`, comma separated or repeated")
	}
	if k.sso {
		fs.StringVar(&f.sso, "sso", "", "map an IAM Identity Center permission set instead: `permissionSetName=NAME,accountID=ACCOUNT[,partition=P]`")
	}
	return cmd
}
