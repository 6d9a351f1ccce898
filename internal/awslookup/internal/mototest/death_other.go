//go:build !linux

package mototest

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
