"""The rules of ATTN: auth, teacher_service and student_service. Import store and db only."""
