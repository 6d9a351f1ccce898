package moto

import "syscall"

// setDeathSignal kills moto if the test binary dies without stopping it.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
