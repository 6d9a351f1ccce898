// Package kubeconfig writes the kubeconfig entries that log a user in to a
// cluster with "iamgate token", as "aws eks update-kubeconfig" does for
// "aws eks get-token". Files are read and written with client-go's clientcmd,
// so every entry the user already has (other clusters, users, contexts,
// preferences, extensions) survives a merge.
package kubeconfig

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Exec credential API versions kubectl understands for an exec plugin.
const (
	ExecAPIV1Beta1 = "client.authentication.k8s.io/v1beta1"
	ExecAPIV1      = "client.authentication.k8s.io/v1"
)

// DefaultCommand is the program a written exec user runs. The small front
// binary answers cached tokens itself, which keeps kubectl fast.
const DefaultCommand = "iamgate"

// installHint is shown by kubectl when the command is missing.
const installHint = `iamgate logs you in to this cluster with your AWS identity.
Install both iamgate and iamgate-core on PATH: see https://github.com/iamgate/iamgate`

// Entry is one cluster as the kubeconfig will know it: a clusters[] entry,
// a users[] entry whose exec plugin is "iamgate token", and a context tying
// them together.
type Entry struct {
	// ClusterName names the clusters[] entry (for EKS the cluster ARN, as
	// aws-cli does, so two accounts' "prod" clusters never collide).
	ClusterName string
	// Context names the context and becomes current-context; empty means
	// ClusterName.
	Context string
	// UserName names the users[] entry; empty means Context, so two aliases
	// of one cluster (say, a viewer and an admin role) keep separate users.
	UserName string

	// Server is the API server URL (https).
	Server string
	// CAData is the PEM CA bundle the server's certificate chains to; empty
	// means the system roots.
	CAData []byte

	// Command is the exec program; empty means DefaultCommand.
	Command string
	// ClusterID is passed as "token --cluster-id": the id the server
	// requires in tokens (for EKS, the cluster name).
	ClusterID string
	// Region, Role and Profile select the signing identity: "--region",
	// "--role" and AWS_PROFILE in the plugin's environment. Each is left out
	// when empty.
	Region  string
	Role    string
	Profile string
	// ExecAPIVersion is ExecAPIV1Beta1 (the default) or ExecAPIV1.
	ExecAPIVersion string
}

func (e Entry) context() string {
	if e.Context != "" {
		return e.Context
	}
	return e.ClusterName
}

func (e Entry) user() string {
	if e.UserName != "" {
		return e.UserName
	}
	return e.context()
}

// Validate reports an entry kubectl could not use.
func (e Entry) Validate() error {
	var errs []error
	if e.ClusterName == "" {
		errs = append(errs, errors.New("cluster entry name is empty"))
	}
	if e.ClusterID == "" {
		errs = append(errs, errors.New("cluster id is empty"))
	}
	if u, err := url.Parse(e.Server); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("server %q is not an https:// URL", e.Server))
	}
	switch e.ExecAPIVersion {
	case "", ExecAPIV1Beta1, ExecAPIV1:
	default:
		errs = append(errs, fmt.Errorf("exec API version %q is neither %s nor %s", e.ExecAPIVersion, ExecAPIV1Beta1, ExecAPIV1))
	}
	return errors.Join(errs...)
}

// ExecConfig is the users[].user.exec stanza that runs "iamgate token".
// interactiveMode is always IfAvailable: kubectl rejects a v1 exec entry
// without it, and it lets an MFA prompt reach the terminal when there is one.
// provideClusterInfo stays false: the token needs only the cluster id.
func (e Entry) ExecConfig() *clientcmdapi.ExecConfig {
	args := []string{"token", "--cluster-id", e.ClusterID}
	if e.Region != "" {
		args = append(args, "--region", e.Region)
	}
	if e.Role != "" {
		args = append(args, "--role", e.Role)
	}
	var env []clientcmdapi.ExecEnvVar
	if e.Profile != "" {
		env = append(env, clientcmdapi.ExecEnvVar{Name: "AWS_PROFILE", Value: e.Profile})
	}
	apiVersion := e.ExecAPIVersion
	if apiVersion == "" {
		apiVersion = ExecAPIV1Beta1
	}
	command := e.Command
	if command == "" {
		command = DefaultCommand
	}
	return &clientcmdapi.ExecConfig{
		APIVersion:         apiVersion,
		Command:            command,
		Args:               args,
		Env:                env,
		InstallHint:        installHint,
		InteractiveMode:    clientcmdapi.IfAvailableExecInteractiveMode,
		ProvideClusterInfo: false,
	}
}

// Apply merges e into cfg: its cluster, user and context entries are
// replaced (a context's namespace is kept), current-context points at it and
// nothing else changes. It reports whether the context is new.
func Apply(cfg *clientcmdapi.Config, e Entry) (created bool) {
	if cfg.Clusters == nil {
		cfg.Clusters = map[string]*clientcmdapi.Cluster{}
	}
	if cfg.AuthInfos == nil {
		cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{}
	}
	if cfg.Contexts == nil {
		cfg.Contexts = map[string]*clientcmdapi.Context{}
	}
	cluster := clientcmdapi.NewCluster()
	cluster.Server = e.Server
	cluster.CertificateAuthorityData = e.CAData
	cfg.Clusters[e.ClusterName] = cluster

	user := clientcmdapi.NewAuthInfo()
	user.Exec = e.ExecConfig()
	cfg.AuthInfos[e.user()] = user

	name := e.context()
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo = e.ClusterName, e.user()
	old, exists := cfg.Contexts[name]
	if exists && old != nil {
		ctx.Namespace = old.Namespace
	}
	cfg.Contexts[name] = ctx
	cfg.CurrentContext = name
	return !exists
}

// DefaultPath is the file kubectl would write to: the first entry of
// $KUBECONFIG, else ~/.kube/config (the rule aws-cli follows too).
func DefaultPath(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, p := range filepath.SplitList(getenv("KUBECONFIG")) {
		if p != "" {
			return p, nil
		}
	}
	dir, err := DefaultDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config"), nil
}

// DefaultDir is ~/.kube, the one directory Update may create: kubectl
// users expect it to appear on first use, while a missing directory anywhere
// else is more likely a typo than a wish.
func DefaultDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	home := getenv("HOME")
	if runtime.GOOS == "windows" && getenv("USERPROFILE") != "" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the kubeconfig: %w; pass --kubeconfig", err)
		}
		home = h
	}
	return filepath.Join(home, ".kube"), nil
}
