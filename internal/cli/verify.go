package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

const verifyLong = `Check a token the way the iamgate server does, and print who signed it.

The token is checked locally first (format, STS host of the partition, query
parameters, signing time within 15 minutes), then sent to STS with the cluster
id header; STS answers with the signer's ARN only if the signature is good
and the token was made for that cluster id. Nothing is mapped: use this to
debug "Unauthorized" answers from the cluster.

Pass "-t -" to read the token from standard input, which keeps it out of the
process list and shell history. The token is never printed.

Examples:

  # Verify a fresh token for cluster "prod":
  iamgate verify -i prod -t "$(iamgate token -i prod --token-only)"

  # The same, read from stdin, printed as JSON:
  aws eks get-token --cluster-name prod | jq -r .status.token | iamgate verify -i prod -t - -o json

  # GovCloud, with a region the built-in table does not know yet:
  iamgate verify -i prod -t - --partition aws-us-gov --sts-region us-gov-south-1

  # aws-iam-authenticator's global flags work too; the cluster id from its config:
  iamgate verify -c /etc/aws-iam-authenticator/config.yaml -t -`

type verifyOptions struct {
	aiaFlags
	token      string
	clusterID  string
	output     string
	partition  string
	stsRegions []string
	stsHosts   []string
}

// verifyResult is the printed identity. The JSON keys are the ones
// aws-iam-authenticator's "verify -o json" prints, so scripts keep working;
// UserID is, as there, the STS UserId without the session part.
type verifyResult struct {
	ARN          string
	CanonicalARN string
	AccountID    string
	UserID       string
	SessionName  string
	AccessKeyID  string
}

// NewVerifyCommand is "iamgate verify".
func NewVerifyCommand(deps Deps, streams Streams) *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify -t TOKEN -i CLUSTER_ID",
		Short: "Verify a token against STS and print the caller's identity",
		Long:  verifyLong,
		// Never echo arguments: a token pasted without -t would be printed.
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return errors.New("verify takes no positional arguments; pass the token with -t (or -t - for stdin)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd, &o, deps, streams)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.token, "token", "t", "", `token to verify ("-" reads it from stdin)`)
	f.StringVarP(&o.clusterID, "cluster-id", "i", "", "cluster `ID` the token must be bound to (default $"+clusterIDEnv+", then clusterID in the -c file)")
	f.StringVarP(&o.output, "output", "o", "", `output format: "json", or empty for text`)
	f.StringVar(&o.partition, "partition", token.DefaultPartition, "AWS partition: "+strings.Join(token.Partitions(), ", "))
	f.StringSliceVar(&o.stsRegions, "sts-region", nil, "also accept STS hosts in this region (repeatable)")
	f.StringSliceVar(&o.stsHosts, "sts-host", nil, "also accept this exact STS host name, e.g. a VPC endpoint (repeatable)")
	o.addFlags(f, aiaHelp{
		config: "aws-iam-authenticator config `file`: its clusterID is used when neither -i nor " +
			clusterIDEnv + " is set (other keys are checked, not used)",
		logFormat:    logFormatNoEffect,
		featureGates: gatesNoEffect,
	})
	return cmd
}

func runVerify(cmd *cobra.Command, o *verifyOptions, deps Deps, streams Streams) error {
	file, err := o.load(cmd.Flags(), streams.Err)
	if err != nil {
		return err
	}
	if err := o.featureGates.apply(file); err != nil {
		return err
	}
	clusterID := clusterIDFrom(o.clusterID, deps.getenv, file)
	if clusterID == "" {
		return errors.New("cluster id not specified (-i, " + clusterIDEnv + " or clusterID in the -c file)")
	}
	if o.output != "" && o.output != "json" {
		return fmt.Errorf("unsupported output format %q (only json)", o.output)
	}
	if !token.KnownPartition(o.partition) {
		return fmt.Errorf("unknown partition %q (known: %s)", o.partition, strings.Join(token.Partitions(), ", "))
	}
	tok, err := verifyReadToken(o.token, streams.In)
	if err != nil {
		return err
	}
	v := &token.Validator{Partition: o.partition, STSRegions: o.stsRegions, ExtraHosts: o.stsHosts, Now: deps.now}
	req, err := v.Validate(tok)
	if err != nil {
		return err // *token.Error: reason and detail, never the token
	}
	id, err := sts.New(sts.Options{Transport: deps.STSTransport}).Verify(cmd.Context(), req, clusterID)
	if err != nil {
		return fmt.Errorf("could not verify token: %w", err)
	}
	res, err := verifyDescribe(id, req)
	if err != nil {
		return err
	}
	if o.output == "json" {
		b, _ := json.MarshalIndent(res, "", "  ")
		_, err = fmt.Fprintf(streams.Out, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(streams.Out, "arn:          %s\ncanonicalArn: %s\naccountID:    %s\nuserID:       %s\nsessionName:  %s\naccessKeyID:  %s\n",
		res.ARN, res.CanonicalARN, res.AccountID, res.UserID, res.SessionName, res.AccessKeyID)
	return err
}

// verifyReadToken returns the -t value, reading stdin for "-". Surrounding
// whitespace (a trailing newline from echo) is dropped.
func verifyReadToken(flag string, in io.Reader) (string, error) {
	if flag != "-" {
		if flag == "" {
			return "", errors.New("token not specified (-t TOKEN, or -t - for stdin)")
		}
		return flag, nil
	}
	if in == nil {
		return "", errors.New("no standard input to read the token from")
	}
	b, err := io.ReadAll(io.LimitReader(in, token.MaxTokenBytes+2))
	if err != nil {
		return "", fmt.Errorf("read token from stdin: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", errors.New("empty token on stdin")
	}
	return tok, nil
}

// verifyDescribe adds what the ARN tells: its canonical form and the session
// name of an assumed role (or the name of a federated user).
func verifyDescribe(id sts.Identity, req *token.Request) (verifyResult, error) {
	a, err := arn.Parse(id.ARN)
	if err != nil {
		return verifyResult{}, fmt.Errorf("sts returned an ARN iamgate cannot use: %w", err)
	}
	res := verifyResult{
		ARN:          id.ARN,
		CanonicalARN: a.Canonical().String(),
		AccountID:    id.Account,
		UserID:       principalID(id.UserID),
		AccessKeyID:  req.AccessKeyID,
	}
	switch a.Type {
	case arn.TypeAssumedRole:
		res.SessionName = a.SessionName
	case arn.TypeFederatedUser:
		res.SessionName = a.Name
	}
	return res, nil
}

// principalID drops the ":session" part of an assumed role's UserId.
func principalID(userID string) string {
	p, _, _ := strings.Cut(userID, ":")
	return p
}
