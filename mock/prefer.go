package mock

import (
	"strconv"
	"strings"
)

// maxPreferLen bounds how much of a Prefer header is parsed; preferences beyond it are ignored.
const maxPreferLen = 4096

// preference is what a Prefer header asks of the mock, in Stoplight Prism's convention.
type preference struct {
	example string // Prefer: example=NAME
	code    int    // Prefer: code=STATUS; 0 when absent
	badCode string // a code= value that is not a status
}

// parsePrefer reads every Prefer header value; preferences are separated by commas or
// semicolons, values may be quoted, unknown preferences (return=, dynamic=) are ignored.
func parsePrefer(values []string) preference {
	var p preference
	budget := maxPreferLen
	for _, v := range values {
		full := len(v)
		if len(v) > budget {
			// Cut at a separator, so that a preference split by the cut ("code=4045") is dropped
			// rather than misread ("code=404").
			v = v[:budget]
			if i := strings.LastIndexAny(v, ",;"); i >= 0 {
				v = v[:i]
			} else {
				v = ""
			}
		}
		budget -= full
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
			key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			key = strings.ToLower(strings.TrimSpace(key))
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			switch key {
			case "example":
				if p.example == "" {
					p.example = val
				}
			case "code":
				if p.code != 0 || p.badCode != "" {
					continue
				}
				if n, err := strconv.Atoi(val); err == nil && n >= 100 && n <= 599 {
					p.code = n
				} else {
					p.badCode = val
				}
			}
		}
		if budget <= 0 {
			break
		}
	}
	return p
}
