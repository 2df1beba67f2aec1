// SPDX-License-Identifier: GPL-2.0
/*
 * A global function is verified on its own, its arguments as BTF types them (an int: any number), not
 * with what one caller passes: byte_at() indexes the packet by an int it does not check, which the
 * kernel refuses however its callers call it; the same code as a static function is verified with its
 * caller's constant and loads.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int byte_at(struct xdp_md *ctx, int i)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (data + 64 > end)
		return 0;
	return data[i];
}

static __noinline int static_byte_at(struct xdp_md *ctx, int i)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (data + 64 > end)
		return 0;
	return data[i];
}

/* Checks its index and the byte itself: verified alone, it is safe for any caller. */
__noinline int checked_byte_at(struct xdp_md *ctx, int i)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u8 *p;

	if (i < 0 || i >= 64)
		return 0;
	p = data + i;
	if (p + 1 > end)
		return 0;
	return *p;
}

SEC("xdp")
int global_unchecked(struct xdp_md *ctx)
{
	return byte_at(ctx, 3) == 0x45 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int static_unchecked(struct xdp_md *ctx)
{
	return static_byte_at(ctx, 3) == 0x45 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int global_checked(struct xdp_md *ctx)
{
	/* what the global function returns is any number to its caller: this compare is not decided */
	return checked_byte_at(ctx, 14) == 0x45 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
