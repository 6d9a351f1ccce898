package mototest

import "syscall"

// setDeathSignal kills moto if the test binary dies without running Stop.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
