package awscreds

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
)

// ErrNonInteractive is returned instead of prompting when kubectl runs the
// plugin without a terminal (KUBERNETES_EXEC_INFO spec.interactive: false).
var ErrNonInteractive = errors.New("an MFA code is needed but kubectl runs iamgate non-interactively")

// mfaPrompter replaces stscreds.StdinTokenProvider, which prompts on stdout:
// kubectl reads a plugin's stdout as the ExecCredential, so a prompt there
// corrupts it and the user never sees it.
type mfaPrompter struct {
	interactive bool
	in          io.Reader
	out         io.Writer
	// mu serializes prompts from chained roles sharing one terminal.
	mu sync.Mutex
}

// configure installs the prompter on one AssumeRole hop (a profile with
// mfa_serial); the serial number names the device in the prompt.
func (p *mfaPrompter) configure(ao *stscreds.AssumeRoleOptions) {
	serial := aws.ToString(ao.SerialNumber)
	ao.TokenProvider = func() (string, error) { return p.ask(serial) }
}

func (p *mfaPrompter) ask(serial string) (string, error) {
	if !p.interactive || p.in == nil || p.out == nil {
		err := fmt.Errorf("%w (device %s): run the same \"iamgate token\" command once in a terminal "+
			"(the assumed-role credentials are then cached for the session), or set interactiveMode: IfAvailable "+
			"in the kubeconfig exec section", ErrNonInteractive, serial)
		return "", &userError{msg: err.Error(), err: err}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "Enter MFA code for %s: ", serial)
	code, err := readLine(p.in)
	if err != nil {
		fmt.Fprintln(p.out)
		return "", fmt.Errorf("read MFA code: %w", err)
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return "", errors.New("read MFA code: empty input")
	}
	return code, nil
}

// readLine reads up to a newline one byte at a time, so nothing after the
// code is consumed from a shared stdin.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 256 {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
			continue
		}
		if err == io.EOF && b.Len() > 0 {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", errors.New("line too long")
}
