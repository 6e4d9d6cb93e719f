package io.pgha.local;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;

/** Short-lived JDBC connections to a local instance, with timeouts that suit health checks. */
public final class Sql {
    private Sql() {
    }

    public static Connection connect(int port, LocalSecrets.Credentials credentials, String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", credentials.username());
        props.setProperty("password", credentials.password());
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "10");
        props.setProperty("loginTimeout", "3");
        props.setProperty("ApplicationName", "pgha");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
    }

    /** The first column of the first row, or null. */
    public static String value(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** A string as a SQL literal (for the few statements that take no parameters, such as ALTER SYSTEM). */
    public static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
