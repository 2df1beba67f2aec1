package org.modnet.sched;

import org.modnet.api.net.NetNamespace;

/** Reads {@code bpf obj FILE sec NAME [da] ...} into a filter ({@code f_bpf.c} with {@code cls_bpf.c}). */
interface ClsBpfLoader {
    TcFilter parse(NetNamespace ns, TcFilterArgs a, int handle, ActApi actions);
}
