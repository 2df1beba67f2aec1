package org.modnet.api.net;

/** A registered integer sysctl of one namespace. */
public interface IntSysctl {
    String name();

    int get();

    /** Sets the value; EINVAL if it is outside the entry's range. */
    void set(int value) throws NetException;
}
