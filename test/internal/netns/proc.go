package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A Proc is a process a host runs, started by Host.Start.
type Proc struct {
	name    string
	host    *Host
	cmd     *exec.Cmd
	pid     int
	start   uint64 // start time, to tell the process from a later one with its PID
	pidfile string
	log     string
	done    chan struct{}
	err     error // what Wait returned, once done is closed
	stop    sync.Once
	stopErr error
}

// Name is the name the process was started under.
func (p *Proc) Name() string { return p.name }

// PID is the process's id: that of `ip netns exec`, which execs the
// program without forking, so it is the program's own.
func (p *Proc) PID() int { return p.pid }

// Log is the file the process's output goes to.
func (p *Proc) Log() string { return p.log }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the process exited (nil for status 0); valid once Done is
// closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Signal sends sig to the process: SIGSTOP freezes it, SIGCONT resumes it.
// It fails if the process has exited.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return fmt.Errorf("netns: %s/%s (pid %d) has exited: %v", p.host.name, p.name, p.pid, p.err)
	default:
	}
	// os.Process holds a pidfd, so the signal cannot reach another process
	// that reused the PID.
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("netns: signal %v to %s/%s (pid %d): %w", sig, p.host.name, p.name, p.pid, err)
	}
	return nil
}

// Stopped reports whether the process is stopped (frozen by SIGSTOP).
func (p *Proc) Stopped() bool {
	select {
	case <-p.done:
		return false
	default:
	}
	return state(p.pid) == 'T'
}

// Stop ends the process: SIGTERM (and SIGCONT, so a frozen process gets
// it), then SIGKILL if it is still running after a grace period. It waits
// until the process has exited and removes its pid file. Stop can be
// called more than once; an exit status other than 0 is not an error of
// Stop (see Err).
func (p *Proc) Stop() error {
	p.stop.Do(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			select {
			case <-p.done:
			case <-time.After(stopGrace):
				_ = p.cmd.Process.Signal(syscall.SIGKILL)
				select {
				case <-p.done:
				case <-time.After(stopGrace):
					p.stopErr = fmt.Errorf("netns: %s/%s (pid %d) survived SIGKILL", p.host.name, p.name, p.pid)
					return
				}
			}
		}
		if err := os.Remove(p.pidfile); err != nil && !errors.Is(err, os.ErrNotExist) {
			p.stopErr = err
		}
	})
	return p.stopErr
}

// stopAll stops processes at once, so their grace periods overlap.
func stopAll(procs []*Proc) error {
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() { errs[i] = p.Stop() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pdeathsig is the signal a started process gets when the test process
// dies without stopping it. Tests that simulate a crashed run clear it.
var pdeathsig = syscall.SIGKILL

// spawn is served by one goroutine locked to its OS thread for the life of
// the test binary. The kernel sends the parent-death signal when the
// thread that forked a child ends, not the process; Go ends a thread when
// a goroutine locked to it returns (as Host.Do's do), so processes are
// forked from this thread, which never ends before the process does.
var spawn = sync.OnceValue(func() chan func() {
	ch := make(chan func())
	go func() {
		runtime.LockOSThread()
		for f := range ch {
			f()
		}
	}()
	return ch
})

// startCmd starts cmd from the spawning thread.
func startCmd(cmd *exec.Cmd) error {
	if pdeathsig != 0 {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Pdeathsig = pdeathsig
	}
	errc := make(chan error, 1)
	spawn() <- func() { errc <- cmd.Start() }
	return <-errc
}

// startTime reads a process's start time (clock ticks after boot) from
// /proc/<pid>/stat.
func startTime(pid int) (uint64, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	// After the command name, field 3 (state) is f[0]; field 22 is the
	// start time.
	if len(f) < 20 {
		return 0, fmt.Errorf("netns: /proc/%d/stat: too few fields", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// state is a process's state letter (R, S, T, Z, ...), 0 if there is no
// such process.
func state(pid int) byte {
	f, err := statFields(pid)
	if err != nil || len(f) == 0 || f[0] == "" {
		return 0
	}
	return f[0][0]
}

// statFields returns the fields of /proc/<pid>/stat after the command name.
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("netns: /proc/%d/stat: no command name", pid)
	}
	return strings.Fields(s[i+1:]), nil
}

// alive reports whether the process pid exists and started at start.
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	s, err := startTime(pid)
	return err == nil && s == start
}

func writePidFile(path string, pid int, start uint64) error {
	return writeAtomic(path, fmt.Appendf(nil, "%d %d\n", pid, start), 0o644)
}

func readPidFile(path string) (pid int, start uint64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscanf(string(b), "%d %d", &pid, &start); err != nil {
		return 0, 0, fmt.Errorf("netns: pid file %s: %w", path, err)
	}
	return pid, start, nil
}

// pidFileName is the pid file of the process called name in dir.
func pidFileName(dir, name string) string { return filepath.Join(dir, name+".pid") }
