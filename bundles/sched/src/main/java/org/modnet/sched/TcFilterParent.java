package org.modnet.sched;

/**
 * A classful qdisc that holds filters ({@code Qdisc_class_ops->tcf_block}): {@code tc filter add dev
 * DEV parent H: ... flowid H:N} puts them in its block; it classifies each frame it is given with
 * them, a filter's class id choosing the class.
 */
interface TcFilterParent {
    TcFilterBlock filters();
}
