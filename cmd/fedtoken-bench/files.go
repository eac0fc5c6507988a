package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// scenarioFile is a small valid 200 scenario; its name comes from the file name.
const scenarioFile = `description: Generated load-time scenario %[1]d.
status: 200
body:
  access_token: access-%04[1]d
  token_type: Bearer
  refresh_token: refresh-%04[1]d
  expires_in: 3600
  scope: openid
`

// fileName is the n-th generated scenario's file name, e.g. s0001.yaml.
func fileName(n int) string { return fmt.Sprintf("s%04d.yaml", n) }

// writeScenarios generates n distinct scenario files s0001.yaml ... into dir.
func writeScenarios(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("scenario dir: %w", err)
	}
	for i := 1; i <= n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fileName(i)), fmt.Appendf(nil, scenarioFile, i), 0o644); err != nil {
			return fmt.Errorf("write scenario file: %w", err)
		}
	}
	return nil
}
