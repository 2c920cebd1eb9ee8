package store

import "time"

// KindSLRDeletionTask: a service-linked role deletion task, for
// GetServiceLinkedRoleDeletionStatus; Key = the DeletionTaskId
// (task/aws-service-role/SERVICE/ROLE/UUID).
const KindSLRDeletionTask Kind = "slr-deletion-task"

// SLRDeletionTask is a DeleteServiceLinkedRole request and how it ended.
type SLRDeletionTask struct {
	ID        string    `json:"id"`
	RoleName  string    `json:"role"`
	Status    string    `json:"status"` // DeletionTaskStatusType: SUCCEEDED, IN_PROGRESS, FAILED, NOT_STARTED
	Submitted time.Time `json:"submitted"`
}
