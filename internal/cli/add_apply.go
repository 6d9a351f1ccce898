package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	udiff "github.com/aymanbagabas/go-udiff"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// editBackoff bounds the retries of a read-modify-write that lost to
// another writer. client-go's DefaultRetry (5 tries, 10 ms apart) lets
// about a third of 20 concurrent writers fail; full jitter spreads the
// retries out, and 30 tries capped at 1 s end within about 20 s.
var editBackoff = wait.Backoff{Steps: 30, Duration: 20 * time.Millisecond, Factor: 1.5, Jitter: 1.0, Cap: time.Second}

// errNotConfirmed is the answer "no" to the prompt.
var errNotConfirmed = errors.New("not confirmed; nothing written (answer y, or pass --prompt=false)")

func runEdit(ctx context.Context, f *editFlags, op editOp, deps Deps, streams Streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	opts, err := editRules(f, deps)
	if err != nil {
		return err
	}
	rc, err := editRESTConfig(f)
	if err != nil {
		return err
	}
	if f.backend == backendCRD {
		return runCRDEdit(ctx, rc, f, op, opts, streams)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	return editConfigMap(ctx, client, f, op, opts, streams)
}

// editRules are the server's options for the EKSConfigMap (or CRD)
// backend: its defaults, or those of the -c config file.
func editRules(f *editFlags, deps Deps) (rules.Options, error) {
	c := &config.Config{}
	if f.configFile != "" {
		var err error
		if c, err = config.Load(f.configFile); err != nil {
			return rules.Options{}, err
		}
	}
	c.Default()
	o := mappingOptions(c, f.backend)
	// What Build would log (risky entries, inactive sections) reaches the
	// user as lint findings instead.
	o.Logger = slog.New(slog.DiscardHandler)
	return o, nil
}

func editRESTConfig(f *editFlags) (*rest.Config, error) {
	lr := clientcmd.NewDefaultClientConfigLoadingRules()
	lr.ExplicitPath = f.kubeconfig
	ov := &clientcmd.ConfigOverrides{CurrentContext: f.context}
	ov.ClusterInfo.Server = f.master
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(lr, ov).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w (pass --kubeconfig, or --master-url)", err)
	}
	rc.UserAgent = "iamgate-edit"
	return rc, nil
}

// editConfigMap reads aws-auth, applies op and writes it with the
// resourceVersion it read; on a conflict it reads again and re-applies
// op to what it finds.
func editConfigMap(ctx context.Context, client kubernetes.Interface, f *editFlags, op editOp, opts rules.Options, streams Streams) error {
	cms := client.CoreV1().ConfigMaps(awsAuthNamespace)
	var (
		attempts, conflicts int
		last                plan
		created, confirmed  bool
		result              *corev1.ConfigMap
	)
	err := retry.RetryOnConflict(editBackoff, func() error {
		attempts++
		cm, err := cms.Get(ctx, awsAuthName, metav1.GetOptions{})
		created = apierrors.IsNotFound(err)
		switch {
		case created:
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: awsAuthName, Namespace: awsAuthNamespace}}
		case err != nil:
			return fmt.Errorf("read kube-system/aws-auth: %w", err)
		}
		if created && op.remove {
			return errors.New("kube-system/aws-auth does not exist; nothing to remove")
		}
		next, p, err := planConfigMap(cm.Data, op, f, opts)
		if err != nil {
			return err
		}
		last = p
		diff := dataDiff(cm.Data, next)
		if f.dryRun {
			result = cm.DeepCopy()
			result.Data = next
			_, err := io.WriteString(streams.Out, diff)
			return err
		}
		if f.prompt && !confirmed {
			if err := confirm(streams, diff, created); err != nil {
				return err
			}
			confirmed = true
		}
		cm.Data = next
		if created {
			result, err = cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: "iamgate"})
			if apierrors.IsAlreadyExists(err) {
				err = apierrors.NewConflict(corev1.Resource("configmaps"), awsAuthName, err)
			}
		} else {
			result, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "iamgate"})
		}
		if apierrors.IsConflict(err) {
			conflicts++
		}
		return err // unwrapped: RetryOnConflict must see a conflict as is
	})
	if err != nil {
		if apierrors.IsConflict(err) {
			return fmt.Errorf("kube-system/aws-auth kept changing: gave up after %d attempts: %w", attempts, err)
		}
		return err
	}
	for _, w := range last.warnings {
		fmt.Fprintln(streams.Err, "warning:", w)
	}
	verb := "updated"
	switch {
	case f.dryRun:
		verb = "would update (dry run, nothing written)"
	case created:
		verb = "created (it did not exist)"
	}
	fmt.Fprintf(streams.Err, "kube-system/aws-auth %s: %s (%d %s, %d %s retried)\n", verb, last.summary,
		attempts, plural(attempts, "attempt", "attempts"), conflicts, plural(conflicts, "conflict", "conflicts"))
	if f.output != "" && result != nil {
		result.APIVersion, result.Kind = "v1", "ConfigMap"
		return printObject(streams.Out, result, f.output)
	}
	return nil
}

const (
	awsAuthNamespace = "kube-system"
	awsAuthName      = "aws-auth"
)

// dataDiff is a unified diff of each data key that changed.
func dataDiff(before, after map[string]string) string {
	var keys []string
	for k := range after {
		keys = append(keys, k)
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		if before[k] == after[k] {
			continue
		}
		b.WriteString(udiff.Unified("a/kube-system/aws-auth/data/"+k, "b/kube-system/aws-auth/data/"+k, before[k], after[k]))
	}
	return b.String()
}

// confirm shows the change on stderr and reads y/N from stdin.
func confirm(streams Streams, diff string, created bool) error {
	if created {
		fmt.Fprintln(streams.Err, "kube-system/aws-auth does not exist; it will be created.")
	}
	fmt.Fprint(streams.Err, diff)
	fmt.Fprint(streams.Err, "Apply this change? [y/N]: ")
	if streams.In == nil {
		return errNotConfirmed
	}
	line, _ := bufio.NewReader(streams.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errNotConfirmed
}

// printObject prints obj as yaml or json.
func printObject(w io.Writer, obj any, format string) error {
	var out []byte
	var err error
	if format == "json" {
		out, err = json.MarshalIndent(obj, "", "  ")
		out = append(out, '\n')
	} else {
		out, err = yaml.Marshal(obj)
	}
	if err != nil {
		return fmt.Errorf("render %s: %w", format, err)
	}
	_, err = w.Write(out)
	return err
}
