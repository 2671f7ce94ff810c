-- Which security post answers an alarm. A post may cover one department (the guard at the
-- emergency entrance); a post covering none answers for the rest of its facility. The post is
-- chosen when the alarm is raised and kept, so that response times count per post even after the
-- posts are reorganised.
ALTER TABLE security_posts ADD COLUMN department_id BLOB REFERENCES departments(id);
ALTER TABLE alarms ADD COLUMN post_id BLOB REFERENCES security_posts(id);
CREATE INDEX alarms_post ON alarms(post_id, id);
