package mock

// ValidateDir checks a directory of scenario files layered over the built-ins exactly as start-up
// would; the error is a *LoadError listing every problem.
func ValidateDir(dir string) error {
	_, err := New(Options{Dir: dir})
	return err
}
