package iam

// TODO(stub): replaced by the real operations.
func (s *Service) accessKeyOperations() []operation { return nil }
