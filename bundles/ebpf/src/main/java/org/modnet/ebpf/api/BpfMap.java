package org.modnet.ebpf.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A map ({@code struct bpf_map}): what {@code BPF_MAP_CREATE} made, as {@code bpftool map} shows and
 * changes it. Keys and values are the bytes a program sees (host byte order for numbers); for per-CPU
 * maps {@link #lookup(byte[])} reads CPU 0's value and {@link #update} writes every CPU's.
 */
@ProviderType
public interface BpfMap {
    /** {@code BPF_ANY}, {@code BPF_NOEXIST}, {@code BPF_EXIST}: how {@link #update} treats an existing key. */
    long BPF_ANY = 0;
    long BPF_NOEXIST = 1;
    long BPF_EXIST = 2;
    /** {@code BPF_F_NO_PREALLOC}. */
    int BPF_F_NO_PREALLOC = 1;
    /** {@code BPF_F_RDONLY_PROG}: programs may read the values, not write them. */
    int BPF_F_RDONLY_PROG = 1 << 7;
    /**
     * {@code BPF_F_INNER_MAP}: an array made to be an inner map, whose fellow inner maps may have other
     * {@code max_entries} than the template (arrays only). @since 2.7
     */
    int BPF_F_INNER_MAP = 1 << 12;

    /** {@code BPF_MAP_TYPE_*} numbers, as {@code include/uapi/linux/bpf.h} gives them. */
    int MAP_HASH = 1;
    int MAP_ARRAY = 2;
    int MAP_PROG_ARRAY = 3;
    int MAP_PERCPU_HASH = 5;
    int MAP_PERCPU_ARRAY = 6;
    int MAP_LRU_HASH = 9;
    int MAP_LPM_TRIE = 11;
    int MAP_DEVMAP = 14;
    int MAP_CPUMAP = 16;
    int MAP_XSKMAP = 17;
    int MAP_ARRAY_OF_MAPS = 12;
    int MAP_HASH_OF_MAPS = 13;
    int MAP_DEVMAP_HASH = 25;
    int MAP_RINGBUF = 27;

    /** The map's id, unique while this implementation runs ({@code bpftool map show}). */
    int id();

    String name();

    /** {@code BPF_MAP_TYPE_*}. */
    int type();

    int keySize();

    int valueSize();

    int maxEntries();

    /** {@code BPF_F_*} map flags. */
    int flags();

    /** The CPUs that have a value of their own: the core's CPUs for per-CPU maps, else 1. */
    int cpus();

    /** The value of {@code key} (CPU 0's for a per-CPU map), a copy; null if absent. */
    byte[] lookup(byte[] key);

    /** The value of {@code key} for {@code cpu} (per-CPU maps; others have one), a copy; null if absent. */
    byte[] lookup(byte[] key, int cpu);

    /** {@code BPF_MAP_UPDATE_ELEM}: 0, or a negative errno (-EEXIST, -ENOENT, -E2BIG, -EINVAL...). */
    int update(byte[] key, byte[] value, long how);

    /** {@code BPF_MAP_DELETE_ELEM}: 0, or a negative errno. */
    int delete(byte[] key);

    /** The keys present, in the map's order ({@code BPF_MAP_GET_NEXT_KEY} from the start). */
    List<byte[]> keys();

    /**
     * The map's description and contents as API values, every CPU's value for per-CPU maps: what a
     * new implementation is given to rebuild the map on an update (issue 15's state hand-over).
     */
    MapState export();
}
