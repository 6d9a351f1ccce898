package kube_test

import "syscall"

// m4DieWithParent makes moto die with the test binary, even when the test
// binary is killed and its cleanups never run.
func m4DieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
