"""a function for a record's name in a language, for reads that PostgreSQL builds whole

`name(lang:)` asks for a record's name by the fallback chain of store/names.py `resolve`: the
language asked for, then the record's own, then English (each as RFC 4647 lookup: `zh-Hans-CN`,
then `zh-Hans`, then `zh`; an exact tag before a longer one it begins), the preferred kind
within a language, former names only when nothing else is known. A compiled read
(server/graph/compiled) builds its answer inside PostgreSQL, where that rule is this function;
the differential tests hold it equal to the Python one. SQLite is taught the Python rule itself
at checkout (server/graph/compiled/json.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION hub_localized_name(names json, lang text, default_lang text)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    current json[];
    tag text;
    parts text[];
    wanted text;
    pass int;
    entry json;
    entry_lang text;
    preference int;
    best_preference int;
    best text;
    found boolean;
BEGIN
    -- Former names only when nothing else is known.
    SELECT array_agg(value ORDER BY ordinality) INTO current
    FROM json_array_elements(names) WITH ORDINALITY
    WHERE value->>'kind' IS DISTINCT FROM 'former';
    IF current IS NULL THEN
        SELECT array_agg(value ORDER BY ordinality) INTO current
        FROM json_array_elements(names) WITH ORDINALITY;
    END IF;
    IF current IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH tag IN ARRAY ARRAY[lang, default_lang, 'en'] LOOP
        CONTINUE WHEN tag IS NULL OR tag = '';
        parts := string_to_array(lower(tag), '-');
        FOR i IN REVERSE array_length(parts, 1)..1 LOOP
            wanted := array_to_string(parts[1:i], '-');
            FOR pass IN 1..2 LOOP  -- the exact tag, then the longer tags it begins
                found := false;
                best_preference := 100;
                FOREACH entry IN ARRAY current LOOP
                    entry_lang := lower(coalesce(entry->>'lang', ''));
                    CONTINUE WHEN NOT CASE pass
                        WHEN 1 THEN entry_lang = wanted
                        ELSE starts_with(entry_lang, wanted || '-') END;
                    preference := CASE coalesce(entry->>'kind', '')
                        WHEN 'official' THEN 0 WHEN 'short' THEN 1 WHEN 'transliteration' THEN 2
                        WHEN 'alias' THEN 3 WHEN 'former' THEN 4 ELSE 9 END;
                    IF preference < best_preference THEN  -- the first of the preferred kind
                        best_preference := preference;
                        best := entry->>'value';
                        found := true;
                    END IF;
                END LOOP;
                IF found THEN
                    RETURN best;
                END IF;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN current[1]->>'value';
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION hub_localized_name(json, text, text)")
