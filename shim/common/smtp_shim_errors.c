/*
 * smtp_shim_error_class(), shared by the Zephyr shim and its POSIX twin. It only names errno
 * constants, so each platform's build classifies with its own C library's numbers.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>

#include "smtp_shim.h"

int smtp_shim_error_class(int err)
{
	if (err < 0) {
		err = -err;
	}
	if (err == SMTP_SHIM_EHOSTNOTFOUND) {
		return SMTP_SHIM_ERR_HOST_NOT_FOUND;
	}
	switch (err) {
	case ETIMEDOUT:
	case EAGAIN:
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return SMTP_SHIM_ERR_TIMED_OUT;
	case ECONNREFUSED:
		return SMTP_SHIM_ERR_REFUSED;
	case ECONNRESET:
		return SMTP_SHIM_ERR_RESET;
	case ECONNABORTED:
		return SMTP_SHIM_ERR_ABORTED;
	case EPIPE:
		return SMTP_SHIM_ERR_BROKEN_PIPE;
	case ENOTCONN:
	case EBADF:
		return SMTP_SHIM_ERR_NOT_CONNECTED;
	case EINVAL:
	case ENAMETOOLONG:
		return SMTP_SHIM_ERR_INVALID;
	case ENOMEM:
	case ENOBUFS:
		return SMTP_SHIM_ERR_NO_MEMORY;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EADDRNOTAVAIL:
		return SMTP_SHIM_ERR_UNREACHABLE;
	case EINTR:
		return SMTP_SHIM_ERR_INTERRUPTED;
	case ENOTSUP:
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
	case EOPNOTSUPP:
#endif
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		return SMTP_SHIM_ERR_UNSUPPORTED;
	case ENOSPC:
#if defined(EDQUOT) && EDQUOT != ENOSPC
	case EDQUOT:
#endif
		return SMTP_SHIM_ERR_NO_SPACE;
	default:
		return SMTP_SHIM_ERR_OTHER;
	}
}
