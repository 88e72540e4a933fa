// errno numbers as Linux x86-64 defines them (include/uapi/asm-generic/errno-base.h, errno.h),
// for naming kretprobe return values and syscall results (-16 -> EBUSY).
const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 9: 'EBADF',
  11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV',
  22: 'EINVAL', 24: 'EMFILE', 25: 'ENOTTY', 28: 'ENOSPC', 34: 'ERANGE', 61: 'ENODATA',
  95: 'EOPNOTSUPP', 110: 'ETIMEDOUT', 125: 'ECANCELED',
};

/** `-16` -> `EBUSY`; null for success or unknown values. EAGAIN is also EWOULDBLOCK on Linux. */
export function errnoName(ret: number | null | undefined): string | null {
  if (ret === null || ret === undefined || ret >= 0) return null;
  return ERRNO[-ret] ?? `errno ${-ret}`;
}

/** `EIO` -> 5 (the symbolic form `%pe` prints with CONFIG_SYMBOLIC_ERRNAME); null when unknown. */
export function errnoNumber(name: string): number | null {
  for (const [n, v] of Object.entries(ERRNO)) if (v === name) return Number(n);
  return name === 'EWOULDBLOCK' ? 11 : null;
}
