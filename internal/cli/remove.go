package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/mapping"
)

// NewRemoveCommand removes mappings from aws-auth (or IAMIdentityMapping
// objects), changing nothing else.
func NewRemoveCommand(deps Deps, streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remove (role|user|group|account)",
		Short: "Remove a mapping from aws-auth, changing nothing else",
		Long: `Remove the entry that maps one principal from kube-system/aws-auth (or delete its
IAMIdentityMapping object with --backend CRD). Entries are selected by ARN
(ignoring case; a role whatever its path, as the server matches it), by sso
block or by account. When several entries match, nothing is removed and they
are listed with their lines; --all removes every one. The comment lines
directly above a removed entry go with it; everything else stays byte for
byte.

Removing the last entry that maps the node role (username
system:node:{{EC2PrivateDNSName}} or system:node:{{SessionName}} with group
system:nodes) or the last system:masters grant is refused unless --force:
nodes, or every administrator, would lose access.

Exit status: 0 removed (or nothing to write with --dry-run), 1 refused or failed.`,
		Example: `  iamgate remove role --rolearn arn:aws:iam::111122223333:role/devs --prompt=false
  iamgate remove user --userarn arn:aws:iam::111122223333:user/alice --all --dry-run
  iamgate remove account 444455556666`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, k := range editKinds {
		cmd.AddCommand(newRemoveKindCommand(k, deps, streams))
	}
	return cmd
}

func newRemoveKindCommand(k editKind, deps Deps, streams Streams) *cobra.Command {
	f := &editFlags{}
	use := k.name + " --" + k.arnFlag + " ARN"
	example := fmt.Sprintf("  iamgate remove %s --%s arn:aws:iam::111122223333:%s/ops --dry-run", k.name, k.arnFlag, k.name)
	switch k.name {
	case "account":
		use, example = "account ACCOUNT", "  iamgate remove account 444455556666"
	case "role":
		use = "role (--rolearn ARN | --sso permissionSetName=NAME,accountID=ACCOUNT)"
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   "Remove " + k.section + " entries",
		Example: example,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			e, err := f.target(k, args, false)
			if err != nil {
				return err
			}
			return runEdit(cmd.Context(), f, editOp{remove: true, section: k.section, entry: e}, deps, streams)
		},
	}
	fs := cmd.Flags()
	f.addCommon(fs)
	fs.BoolVar(&f.all, "all", false, "remove every entry for this principal when there are several")
	if k.kind != mapping.KindAccount {
		fs.StringVar(&f.arn, k.arnFlag, "", "the IAM "+k.name+" `ARN` whose entries to remove")
	}
	if k.sso {
		fs.StringVar(&f.sso, "sso", "", "select the entry of a permission set: `permissionSetName=NAME,accountID=ACCOUNT[,partition=P]`")
	}
	return cmd
}
