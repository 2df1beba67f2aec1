package org.modnet.ipset;

/** The set types of this slice, with the revision and the dimensions ipset lists for them. */
enum SetType {
    HASH_IP("hash:ip", 6, 1),
    HASH_NET("hash:net", 7, 1),
    HASH_IP_PORT("hash:ip,port", 7, 2),
    BITMAP_PORT("bitmap:port", 3, 1);

    final String typename;
    final int revision;
    /** How many of a packet's parts make a key (IPSET_DIM_ONE, _TWO). */
    final int dimension;

    SetType(String typename, int revision, int dimension) {
        this.typename = typename;
        this.revision = revision;
        this.dimension = dimension;
    }

    static SetType of(String name) {
        for (SetType t : values()) {
            if (t.typename.equals(name)) {
                return t;
            }
        }
        return null;
    }

    boolean hash() {
        return this != BITMAP_PORT;
    }
}
