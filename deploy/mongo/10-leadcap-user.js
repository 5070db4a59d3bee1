// leadcap's MongoDB user, made once by the mongo image on the first start of an empty volume (it
// runs /docker-entrypoint-initdb.d/*.js in mongosh as MONGO_INITDB_ROOT_USERNAME).
// The app may read and write the request-log database only (readWrite: find, insert, createIndex
// for the TTL index); it cannot reach other databases, users or server administration.
// Values come from the environment (.env.docker.stores), never from a command line.
const required = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (.env.docker.stores)`);
  return value;
};
const database = required("MONGO_APP_DB");
db.getSiblingDB(database).createUser({
  user: required("MONGO_APP_USER"),
  pwd: required("MONGO_APP_PASSWORD"),
  roles: [{ role: "readWrite", db: database }],
});
