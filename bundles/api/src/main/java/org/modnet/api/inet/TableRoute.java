package org.modnet.api.inet;

/**
 * A route of a table other than main, as a route notification carries it ({@code RtnlMessage.body}),
 * so that {@code ip monitor} prints its {@code table ID}; a main-table route travels as the
 * {@link RouteEntry} alone. @since 1.8
 *
 * @param table the table's id
 * @param route the route
 */
public record TableRoute(long table, RouteEntry route) {
}
