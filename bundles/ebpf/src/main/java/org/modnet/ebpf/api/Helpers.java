package org.modnet.ebpf.api;

/**
 * The helpers a program may call, by number. A helper registered as an "unwind" helper ends the
 * program with r0 = 0 when it returns 0 (the bpf_conformance suite's helper 5).
 */
public final class Helpers {
    private Helper[] byId = new Helper[0];
    private boolean[] unwind = new boolean[0];
    private String[] names = new String[0];

    public Helpers register(int id, String name, Helper h) {
        return register(id, name, h, false);
    }

    public Helpers register(int id, String name, Helper h, boolean unwinds) {
        if (id >= byId.length) {
            byId = java.util.Arrays.copyOf(byId, id + 1);
            unwind = java.util.Arrays.copyOf(unwind, id + 1);
            names = java.util.Arrays.copyOf(names, id + 1);
        }
        byId[id] = h;
        unwind[id] = unwinds;
        names[id] = name;
        return this;
    }

    /** One past the highest number registered. */
    public int size() {
        return byId.length;
    }

    /** The helper of that number, or null. */
    public Helper get(long id) {
        return id >= 0 && id < byId.length ? byId[(int) id] : null;
    }

    public boolean unwinds(long id) {
        return id >= 0 && id < unwind.length && unwind[(int) id];
    }

    public String name(long id) {
        return id >= 0 && id < names.length && names[(int) id] != null ? names[(int) id] : "#" + id;
    }

    /** Registers every helper of this set into {@code other} (this one's win). */
    public void copyInto(Helpers other) {
        for (int id = 0; id < byId.length; id++) {
            if (byId[id] != null) {
                other.register(id, names[id], byId[id], unwind[id]);
            }
        }
    }
}
