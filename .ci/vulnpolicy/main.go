// Command vulnpolicy reads govulncheck's -format json stream on stdin and applies CI's policy:
// a reachable vulnerability in a module we require fails (exit 3); one in the standard library is
// printed as a warning, because its fix is a newer Go patch release than this project's pinned
// toolchain (go1.26.8) and the workplace serves none; anything unparsable fails (exit 1).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type message struct {
	Finding *finding `json:"finding"`
}

func main() {
	code, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulnpolicy:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(r io.Reader, w io.Writer) (int, error) {
	dec := json.NewDecoder(r)
	stdlib := map[string]string{}
	modules := map[string]string{}
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 1, fmt.Errorf("decode govulncheck output: %w", err)
		}
		f := m.Finding
		// Only symbol-level findings (a function in the trace) mean our code reaches the bug.
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue
		}
		top := f.Trace[0]
		desc := fmt.Sprintf("%s %s: %s.%s (fixed in %s)", top.Module, top.Version, top.Package, top.Function, f.FixedVersion)
		if top.Module == "stdlib" || top.Module == "toolchain" {
			stdlib[f.OSV] = desc
		} else {
			modules[f.OSV] = desc
		}
	}
	report(w, "WARNING (standard library; needs a newer Go patch release than the pinned toolchain)", stdlib)
	report(w, "FAIL (a module we require)", modules)
	if len(modules) > 0 {
		return 3, nil
	}
	fmt.Fprintf(w, "vulnpolicy: no reachable vulnerability in any required module; %d in the standard library (warning)\n", len(stdlib))
	return 0, nil
}

func report(w io.Writer, title string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fmt.Fprintf(w, "vulnpolicy: %s: %d\n", title, len(ids))
	for _, id := range ids {
		fmt.Fprintf(w, "  %s  %s\n", id, m[id])
	}
}
