// SEC("tc") in direct-action mode: counts every frame in slot 0 of an array map and passes it.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
    __u32 key = 0;
    __u64 *n = bpf_map_lookup_elem(&hits, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
